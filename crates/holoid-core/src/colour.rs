//! The sRGB transfer function, shared by the simulator (light on a display and a sensor)
//! and the detector (comparing colours as light), and one table of the 256 8-bit levels'
//! light that both read.

/// sRGB-encoded value (0..1) to linear light.
pub fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light (0..1) to sRGB-encoded value.
pub fn linear_to_srgb(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// The linear light (0..1) of each 8-bit sRGB level, computed once.
#[inline]
pub fn linear_levels() -> &'static [f32; 256] {
    static TABLE: std::sync::OnceLock<[f32; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|v| srgb_to_linear(v as f32 / 255.0)))
}

/// The linear light (0..1) of the 8-bit sRGB level `v`, from [`linear_levels`].
#[inline]
pub fn linear_of_level(v: u8) -> f32 {
    linear_levels()[usize::from(v)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_transfer_function_and_inverts() {
        for v in 0..=255u8 {
            let lin = linear_of_level(v);
            assert_eq!(lin, srgb_to_linear(f32::from(v) / 255.0));
            assert_eq!((linear_to_srgb(lin) * 255.0).round() as u8, v);
        }
        assert_eq!(linear_of_level(0), 0.0);
        assert!((linear_of_level(255) - 1.0).abs() < 1e-6);
    }
}
