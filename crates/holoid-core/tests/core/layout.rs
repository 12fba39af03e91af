use holoid_core::code::geometry::{CodeGeometry, GRID_COLS, GRID_ROWS, MODULE_COUNT, MarkKind};
use holoid_core::layout::{CardLayout, Rect};

#[test]
fn regions_and_code_do_not_overlap() {
    let code = CodeGeometry::STANDARD;
    let mut all: Vec<(String, Rect)> = CardLayout::STANDARD
        .regions()
        .iter()
        .map(|(n, r)| (n.to_string(), *r))
        .collect();
    all.push(("code grid".into(), code.grid_rect_with_quiet_zone()));
    for i in 0..4 {
        all.push((format!("mark {i}"), code.mark_rect_with_quiet_zone(i)));
    }
    for (i, (na, a)) in all.iter().enumerate() {
        assert!(a.inside_card(), "{na} leaves the card: {a:?}");
        for (nb, b) in &all[i + 1..] {
            assert!(!a.overlaps(b), "{na} overlaps {nb}");
        }
    }
}

#[test]
fn emblem_sits_inside_the_sweep_ring() {
    let l = CardLayout::STANDARD;
    let [cx, cy] = l.sweep.center;
    let e = l.emblem;
    for (x, y) in [
        (e.x, e.y),
        (e.x + e.w, e.y),
        (e.x, e.y + e.h),
        (e.x + e.w, e.y + e.h),
    ] {
        assert!(((x - cx).powi(2) + (y - cy).powi(2)).sqrt() < l.sweep.inner);
    }
}

#[test]
fn modules_fill_the_grid_and_one_mark_orients() {
    let code = CodeGeometry::STANDARD;
    let grid = code.grid_rect();
    assert_eq!(MODULE_COUNT, GRID_COLS * GRID_ROWS);
    for i in 0..MODULE_COUNT {
        let m = code.module_rect(i);
        assert!(
            m.x >= grid.x && m.y >= grid.y && m.x + m.w <= grid.x + grid.w && m.y + m.h <= grid.y + grid.h
        );
    }
    let orientation = code
        .marks
        .iter()
        .filter(|m| m.kind == MarkKind::Orientation)
        .count();
    assert_eq!(orientation, 1);
    assert_eq!(code.marks[3].kind, MarkKind::Orientation);
}
