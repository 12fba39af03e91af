//! The GPU device the renderer draws with, and the renderer's errors.

use std::fmt;

/// Why the renderer could not start or draw.
#[derive(Debug)]
#[non_exhaustive]
pub enum RenderError {
    /// No GPU adapter was found (on Linux without a GPU: install `mesa-vulkan-drivers`).
    NoAdapter(String),
    /// The adapter refused to create a device.
    Device(String),
    /// The requested size is zero or beyond the adapter's texture limit.
    BadSize {
        /// Requested width.
        width: u32,
        /// Requested height.
        height: u32,
        /// The adapter's largest texture side.
        max: u32,
    },
    /// The target format is not one the renderer draws in.
    Format(String),
    /// The portrait image could not be decoded.
    Portrait(String),
    /// Reading the frame back from the GPU failed.
    Readback(String),
    /// A window surface could not be made, configured or drawn into.
    Surface(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::NoAdapter(e) => write!(
                f,
                "no GPU adapter found ({e}); on a machine without a GPU install Mesa's software \
                 Vulkan driver: apt-get install mesa-vulkan-drivers libvulkan1"
            ),
            RenderError::Device(e) => write!(f, "the GPU adapter refused to create a device: {e}"),
            RenderError::BadSize { width, height, max } => {
                write!(
                    f,
                    "cannot render {width}x{height}: each side must be 1 to {max} pixels"
                )
            }
            RenderError::Format(format) => write!(
                f,
                "cannot draw into {format} textures: choose Rgba8Unorm or Bgra8Unorm (8-bit, not sRGB)"
            ),
            RenderError::Portrait(e) => write!(f, "cannot use the portrait image: {e}"),
            RenderError::Readback(e) => write!(f, "cannot read the frame back from the GPU: {e}"),
            RenderError::Surface(e) => write!(f, "cannot draw into the window surface: {e}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// A wgpu device and queue, with the adapter they came from.
#[derive(Clone, Debug)]
pub struct GpuContext {
    /// The adapter (its info names the GPU or driver).
    pub adapter: wgpu::Adapter,
    /// The device.
    pub device: wgpu::Device,
    /// The device's queue.
    pub queue: wgpu::Queue,
}

impl GpuContext {
    /// A device on the adapter chosen by the environment (`WGPU_BACKEND`,
    /// `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`) or the default one, for offscreen work.
    pub fn headless() -> Result<GpuContext, RenderError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        Self::from_instance(&instance, None)
    }

    /// A device on an adapter that can present to `surface` (if given).
    pub fn from_instance(
        instance: &wgpu::Instance,
        surface: Option<&wgpu::Surface<'_>>,
    ) -> Result<GpuContext, RenderError> {
        let adapter = pollster::block_on(wgpu::util::initialize_adapter_from_env_or_default(
            instance, surface,
        ))
        .map_err(|e| RenderError::NoAdapter(e.to_string()))?;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("holoid device"),
            required_limits: wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits()),
            ..Default::default()
        }))
        .map_err(|e| RenderError::Device(e.to_string()))?;
        Ok(GpuContext {
            adapter,
            device,
            queue,
        })
    }

    /// "name (backend, device type)" of the adapter.
    pub fn describe(&self) -> String {
        let i = self.adapter.get_info();
        format!("{} ({:?}, {:?})", i.name, i.backend, i.device_type)
    }
}
