//! Where the machine-readable code's modules and marks sit on the card (design units).
//!
//! - Four **corner marks**, 7 × 7 modules each, inset from the card corners: three are
//!   QR-style finders (dark ring, light ring, 3 × 3 dark core, i.e. 1:1:3:1:1 across), the
//!   bottom-right one is the **orientation mark** (concentric rings, 1:1:1:1:1:1:1), so a
//!   detector knows which way up the card is and gets a whole-card homography.
//! - The **data grid**: 40 × 12 modules above the bottom marks, with a one-module light
//!   quiet zone. Codeword byte `i` fills a 4 × 2 block (blocks in reading order, 10 per
//!   row); bit 7 of the byte is the block's top-left module, then left to right, top to
//!   bottom. A set bit is a dark module.
//!
//! Module size is 24 design units (about 2.2 % of the card width), twice the module of a
//! 300-pixel QR code on a 1080-pixel screen, so the code survives the "hard" capture level.

use crate::layout::{CARD_HEIGHT, CARD_WIDTH, Rect};

/// Modules across and down the data grid.
pub const GRID_COLS: usize = 40;
/// Module rows of the data grid.
pub const GRID_ROWS: usize = 12;
/// Number of data modules, one bit each.
pub const MODULE_COUNT: usize = GRID_COLS * GRID_ROWS;
/// Modules across a corner mark.
pub const MARK_MODULES: usize = 7;

/// The two kinds of corner mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// QR-style finder: 1:1:3:1:1.
    Finder,
    /// Concentric rings: 1:1:1:1:1:1:1. Exactly one, at the bottom-right corner.
    Orientation,
}

impl MarkKind {
    /// Whether module (`col`, `row`) of the 7 × 7 mark is dark.
    pub fn is_dark(self, col: usize, row: usize) -> bool {
        // Chebyshev distance from the centre: 3 = outer ring, 0 = centre.
        let ring = col.abs_diff(3).max(row.abs_diff(3));
        match self {
            MarkKind::Finder => ring != 2,
            MarkKind::Orientation => ring % 2 == 1,
        }
    }
}

/// One corner mark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CornerMark {
    /// Which mark.
    pub kind: MarkKind,
    /// Its square, quiet zone excluded.
    pub rect: Rect,
}

/// The code's geometry on the design canvas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CodeGeometry {
    /// Side of one module.
    pub module: f32,
    /// Top-left corner of the data grid.
    pub grid_origin: [f32; 2],
    /// The corner marks: top-left, top-right, bottom-left, bottom-right (orientation).
    pub marks: [CornerMark; 4],
}

const MODULE: f32 = 24.0;
const INSET: f32 = 48.0;
const MARK: f32 = MODULE * MARK_MODULES as f32;

impl CodeGeometry {
    /// The standard geometry on the 1080 × 2340 canvas.
    pub const STANDARD: CodeGeometry = CodeGeometry {
        module: MODULE,
        grid_origin: [60.0, 1788.0],
        marks: [
            CornerMark {
                kind: MarkKind::Finder,
                rect: Rect::new(INSET, INSET, MARK, MARK),
            },
            CornerMark {
                kind: MarkKind::Finder,
                rect: Rect::new(CARD_WIDTH - INSET - MARK, INSET, MARK, MARK),
            },
            CornerMark {
                kind: MarkKind::Finder,
                rect: Rect::new(INSET, CARD_HEIGHT - INSET - MARK, MARK, MARK),
            },
            CornerMark {
                kind: MarkKind::Orientation,
                rect: Rect::new(CARD_WIDTH - INSET - MARK, CARD_HEIGHT - INSET - MARK, MARK, MARK),
            },
        ],
    };

    /// The data grid, without its quiet zone.
    pub fn grid_rect(&self) -> Rect {
        Rect::new(
            self.grid_origin[0],
            self.grid_origin[1],
            self.module * GRID_COLS as f32,
            self.module * GRID_ROWS as f32,
        )
    }

    /// The data grid with its one-module quiet zone, which must stay light.
    pub fn grid_rect_with_quiet_zone(&self) -> Rect {
        let g = self.grid_rect();
        Rect::new(
            g.x - self.module,
            g.y - self.module,
            g.w + 2.0 * self.module,
            g.h + 2.0 * self.module,
        )
    }

    /// A corner mark's square with its one-module quiet zone.
    pub fn mark_rect_with_quiet_zone(&self, mark: usize) -> Rect {
        let r = self.marks[mark].rect;
        Rect::new(
            r.x - self.module,
            r.y - self.module,
            r.w + 2.0 * self.module,
            r.h + 2.0 * self.module,
        )
    }

    /// The (column, row) of data module `index` (0..[`MODULE_COUNT`]), which carries bit
    /// `7 - index % 8` of codeword byte `index / 8`.
    pub fn module_cell(index: usize) -> (usize, usize) {
        let (byte, bit) = (index / 8, index % 8);
        let (block_col, block_row) = (byte % (GRID_COLS / 4), byte / (GRID_COLS / 4));
        (block_col * 4 + bit % 4, block_row * 2 + bit / 4)
    }

    /// The square of data module `index`.
    pub fn module_rect(&self, index: usize) -> Rect {
        let (c, r) = Self::module_cell(index);
        Rect::new(
            self.grid_origin[0] + c as f32 * self.module,
            self.grid_origin[1] + r as f32 * self.module,
            self.module,
            self.module,
        )
    }

    /// The centre of each corner mark: the four points a detector fits its homography to.
    pub fn mark_centers(&self) -> [[f32; 2]; 4] {
        self.marks.map(|m| m.rect.center())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_have_their_ratios() {
        let row = |k: MarkKind| (0..7).map(|c| k.is_dark(c, 3)).collect::<Vec<_>>();
        assert_eq!(
            row(MarkKind::Finder),
            [true, false, true, true, true, false, true]
        );
        assert_eq!(
            row(MarkKind::Orientation),
            [true, false, true, false, true, false, true]
        );
    }

    #[test]
    fn every_cell_is_used_once() {
        let mut seen = [[false; GRID_COLS]; GRID_ROWS];
        for i in 0..MODULE_COUNT {
            let (c, r) = CodeGeometry::module_cell(i);
            assert!(!seen[r][c], "cell {c},{r} used twice");
            seen[r][c] = true;
        }
    }
}
