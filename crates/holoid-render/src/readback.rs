//! The one readback helper: copies a texture into a buffer with rows padded to 256 bytes
//! (wgpu's `COPY_BYTES_PER_ROW_ALIGNMENT`), waits, and strips the padding into an image.
//! The buffer is made once per renderer and reused.

use super::gpu::{GpuContext, RenderError};

/// How long a read-back waits for its buffer's map callback once the GPU has finished (the
/// callback may be run by another thread's poll of the same device).
const MAP_CALLBACK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the map callback reports, kept between frames so reading back allocates nothing
/// of holoid's own.
type MapResult = std::sync::Arc<std::sync::Mutex<Option<Result<(), wgpu::BufferAsyncError>>>>;

/// A reusable readback buffer for one texture size.
pub struct Readback {
    buffer: wgpu::Buffer,
    mapped: MapResult,
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
            mapped: MapResult::default(),
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

    /// Bytes of one frame without padding: width × height × 4.
    pub fn frame_bytes(&self) -> usize {
        4 * self.width as usize * self.height as usize
    }

    /// Copies `texture` (8-bit RGBA or BGRA, this size) back into an RGBA image.
    pub fn read(&self, ctx: &GpuContext, texture: &wgpu::Texture) -> Result<image::RgbaImage, RenderError> {
        let mut pixels = vec![0; self.frame_bytes()];
        self.read_into(ctx, texture, &mut pixels)?;
        image::RgbaImage::from_raw(self.width, self.height, pixels)
            .ok_or_else(|| RenderError::Readback("pixel count does not match the size".into()))
    }

    /// Copies `texture` (8-bit RGBA or BGRA, this size) back into `out` as tightly packed
    /// RGBA rows; `out` must hold exactly [`frame_bytes`](Self::frame_bytes).
    pub fn read_into(
        &self,
        ctx: &GpuContext,
        texture: &wgpu::Texture,
        out: &mut [u8],
    ) -> Result<(), RenderError> {
        if out.len() != self.frame_bytes() {
            return Err(RenderError::Readback(format!(
                "the destination holds {} bytes, a {}x{} frame needs {}",
                out.len(),
                self.width,
                self.height,
                self.frame_bytes()
            )));
        }
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
        let lock = |m: &MapResult| m.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        lock(&self.mapped);
        let done = self.mapped.clone();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            *done.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
        });
        ctx.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| RenderError::Readback(e.to_string()))?;
        // Renderers on other threads may share the device: a poll there can take this
        // buffer's callback and run it just after our poll returns. Wait for it a while.
        let mut result = lock(&self.mapped);
        let start = std::time::Instant::now();
        while result.is_none() && start.elapsed() < MAP_CALLBACK_WAIT {
            std::thread::sleep(std::time::Duration::from_millis(1));
            ctx.device
                .poll(wgpu::PollType::Poll)
                .map_err(|e| RenderError::Readback(e.to_string()))?;
            result = lock(&self.mapped);
        }
        match result {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(RenderError::Readback(e.to_string())),
            None => {
                return Err(RenderError::Readback(format!(
                    "the buffer was not mapped {} s after the GPU finished",
                    MAP_CALLBACK_WAIT.as_secs()
                )));
            }
        }
        let row = 4 * self.width as usize;
        {
            let data = slice
                .get_mapped_range()
                .map_err(|e| RenderError::Readback(e.to_string()))?;
            for (src, dst) in data
                .chunks_exact(self.padded_row as usize)
                .zip(out.chunks_exact_mut(row))
            {
                dst.copy_from_slice(&src[..row]);
            }
        }
        self.buffer.unmap();
        if self.bgra {
            out.chunks_exact_mut(4).for_each(|p| p.swap(0, 2));
        }
        Ok(())
    }
}
