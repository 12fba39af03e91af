//! The one readback helper: copies a texture into a buffer with rows padded to 256 bytes
//! (wgpu's `COPY_BYTES_PER_ROW_ALIGNMENT`), waits, and strips the padding into an image.
//! The buffer is made once per renderer and reused.

use super::gpu::{GpuContext, RenderError};

/// A reusable readback buffer for one texture size.
pub struct Readback {
    buffer: wgpu::Buffer,
    width: u32,
    height: u32,
    padded_row: u32,
    bgra: bool,
}

impl Readback {
    /// A buffer for `width` × `height` RGBA8 textures.
    pub fn new(ctx: &GpuContext, width: u32, height: u32, format: wgpu::TextureFormat) -> Readback {
        let align = wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let padded_row = (4 * width).div_ceil(align) * align;
        let buffer = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("holoid readback buffer"),
            size: u64::from(padded_row) * u64::from(height),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let bgra = matches!(
            format,
            wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
        );
        Readback {
            buffer,
            width,
            height,
            padded_row,
            bgra,
        }
    }

    /// Size of the buffer in bytes.
    pub fn buffer_bytes(&self) -> u64 {
        self.buffer.size()
    }

    /// Copies `texture` (8-bit RGBA or BGRA, this size) back into an RGBA image.
    pub fn read(&self, ctx: &GpuContext, texture: &wgpu::Texture) -> Result<image::RgbaImage, RenderError> {
        let mut encoder = ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("holoid readback encoder"),
            });
        encoder.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &self.buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(self.padded_row),
                    rows_per_image: Some(self.height),
                },
            },
            wgpu::Extent3d {
                width: self.width,
                height: self.height,
                depth_or_array_layers: 1,
            },
        );
        ctx.queue.submit([encoder.finish()]);
        let slice = self.buffer.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        rx.recv()
            .map_err(|e| RenderError::Readback(e.to_string()))?
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        let row = 4 * self.width as usize;
        let mut pixels = Vec::with_capacity(row * self.height as usize);
        {
            let data = slice
                .get_mapped_range()
                .map_err(|e| RenderError::Readback(e.to_string()))?;
            for chunk in data.chunks_exact(self.padded_row as usize) {
                pixels.extend_from_slice(&chunk[..row]);
            }
        }
        self.buffer.unmap();
        if self.bgra {
            pixels.chunks_exact_mut(4).for_each(|p| p.swap(0, 2));
        }
        image::RgbaImage::from_raw(self.width, self.height, pixels)
            .ok_or_else(|| RenderError::Readback("pixel count does not match the size".into()))
    }
}
