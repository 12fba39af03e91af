//! One separable Gaussian blur, shared by the simulator (the camera's optics) and the detector
//! (the reference blurs it compares photos with), so both blur the same way. Pure functions.

/// The normalised Gaussian kernel of `sigma` pixels: `2r + 1` weights, `r = ⌈3σ⌉`, summing
/// to 1. `sigma` must be above 0.
pub fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil() as i64;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let norm: f32 = kernel.iter().sum();
    kernel.iter().map(|k| k / norm).collect()
}

/// Blurs `pixels` (`width` × `height`, rows packed, `C` channels a pixel) by a Gaussian of
/// `sigma` pixels, along the rows and then the columns, edges clamped, in place with one line
/// buffer. Nothing happens for `sigma` ≤ 0.
///
/// # Panics
/// If `pixels` does not hold `width` × `height` pixels.
pub fn gaussian_blur<const C: usize>(pixels: &mut [[f32; C]], width: usize, height: usize, sigma: f32) {
    assert_eq!(pixels.len(), width * height, "a {width}x{height} image");
    if sigma <= 0.0 || pixels.is_empty() {
        return;
    }
    let kernel = gaussian_kernel(sigma);
    let radius = (kernel.len() / 2) as i64;
    let convolve = |line: &[[f32; C]], out: &mut [[f32; C]]| {
        let n = line.len() as i64;
        for (x, o) in out.iter_mut().enumerate() {
            let mut acc = [0.0f32; C];
            for (i, k) in kernel.iter().enumerate() {
                let p = line[(x as i64 + i as i64 - radius).clamp(0, n - 1) as usize];
                for c in 0..C {
                    acc[c] += k * p[c];
                }
            }
            *o = acc;
        }
    };
    let mut line = vec![[0.0f32; C]; width.max(height)];
    for row in pixels.chunks_exact_mut(width) {
        line[..width].copy_from_slice(row);
        convolve(&line[..width], row);
    }
    let mut column = vec![[0.0f32; C]; height];
    for x in 0..width {
        for (y, v) in line[..height].iter_mut().enumerate() {
            *v = pixels[y * width + x];
        }
        convolve(&line[..height], &mut column);
        for (y, v) in column.iter().enumerate() {
            pixels[y * width + x] = *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_sums_to_one_and_is_symmetric() {
        for sigma in [0.3f32, 1.0, 2.5, 14.0] {
            let k = gaussian_kernel(sigma);
            assert_eq!(k.len(), 2 * (3.0 * sigma).ceil() as usize + 1);
            assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!(k.iter().zip(k.iter().rev()).all(|(a, b)| a == b));
        }
    }

    #[test]
    fn a_blur_keeps_flat_fields_and_the_mean_and_spreads_a_point() {
        let (w, h) = (9, 7);
        let mut flat = vec![[0.25f32, 0.5]; w * h];
        gaussian_blur(&mut flat, w, h, 1.5);
        assert!(
            flat.iter()
                .all(|p| (p[0] - 0.25).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6)
        );
        let mut point = vec![[0.0f32]; 21 * 21];
        point[10 * 21 + 10] = [1.0];
        gaussian_blur(&mut point, 21, 21, 1.0);
        let total: f32 = point.iter().map(|p| p[0]).sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        assert!(point[10 * 21 + 10][0] < 0.2 && point[10 * 21 + 11][0] > 0.05);
        assert_eq!(point[10 * 21 + 9], point[10 * 21 + 11]);
        let before = point.clone();
        gaussian_blur(&mut point, 21, 21, 0.0);
        assert_eq!(point, before, "sigma 0 leaves it");
    }
}
