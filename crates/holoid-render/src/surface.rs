//! Drawing the card into a window surface (a winit window, an Android `ANativeWindow`, a
//! `CAMetalLayer`, an X11 or Wayland window): the surface, its configuration, and a renderer
//! of the surface's size and format, made anew when the size changes from the same
//! [`RenderKit`] (a resize compiles no shader).

use super::gpu::{GpuContext, RenderError};
use super::{CardRenderer, FrameParams, RenderKit, RendererOptions, SUPPORTED_FORMATS};

/// A window surface with the card renderer that draws into it.
pub struct SurfaceCard {
    surface: wgpu::Surface<'static>,
    config: Option<wgpu::SurfaceConfiguration>,
    kit: Option<RenderKit>,
    renderer: Option<CardRenderer>,
}

/// What [`SurfaceCard::draw`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drawn {
    /// The frame was drawn and presented.
    Presented,
    /// The surface was outdated or lost and has been configured again: draw again.
    Reconfigured,
    /// No frame could be had this time (a timeout, an occluded window): nothing was drawn.
    Skipped,
}

impl SurfaceCard {
    /// A surface not yet configured: call [`configure`](Self::configure) before drawing.
    pub fn new(surface: wgpu::Surface<'static>) -> SurfaceCard {
        SurfaceCard {
            surface,
            config: None,
            kit: None,
            renderer: None,
        }
    }

    /// Configures the surface for `width` × `height` in an 8-bit format it offers, and makes
    /// its renderer with `make` from `base` with that size and format, and the surface's
    /// [`RenderKit`] for that format (made on the first call, kept for later ones).
    pub fn configure(
        &mut self,
        gpu: &GpuContext,
        (width, height): (u32, u32),
        base: RendererOptions,
        make: impl FnOnce(&RenderKit, RendererOptions) -> Result<CardRenderer, RenderError>,
    ) -> Result<(), RenderError> {
        if width == 0 || height == 0 {
            return Err(RenderError::Surface(format!(
                "cannot draw into a {width}x{height} surface: each side must be at least 1 pixel"
            )));
        }
        let caps = self.surface.get_capabilities(&gpu.adapter);
        let format = SUPPORTED_FORMATS
            .into_iter()
            .find(|f| caps.formats.contains(f))
            .ok_or_else(|| {
                RenderError::Surface(format!(
                    "the surface offers no 8-bit non-sRGB format the card is drawn in (it offers {:?})",
                    caps.formats
                ))
            })?;
        let mut config = self
            .surface
            .get_default_config(&gpu.adapter, width, height)
            .ok_or_else(|| RenderError::Surface("the GPU adapter cannot present to this surface".into()))?;
        config.format = format;
        config.present_mode = wgpu::PresentMode::Fifo;
        self.surface.configure(&gpu.device, &config);
        let kit = match self.kit.take() {
            Some(kit) if kit.format() == format => kit,
            _ => RenderKit::new(gpu, format)?,
        };
        let renderer = make(
            &kit,
            RendererOptions {
                width,
                height,
                format,
                ..base
            },
        );
        self.kit = Some(kit);
        self.renderer = Some(renderer?);
        self.config = Some(config);
        Ok(())
    }

    /// The configured size, if configured.
    pub fn size(&self) -> Option<(u32, u32)> {
        self.config.as_ref().map(|c| (c.width, c.height))
    }

    /// The renderer, once configured.
    pub fn renderer(&self) -> Option<&CardRenderer> {
        self.renderer.as_ref()
    }

    /// Draws `frame` and presents it; `before_present` runs just before (winit's
    /// `pre_present_notify`).
    pub fn draw(
        &mut self,
        gpu: &GpuContext,
        frame: &FrameParams,
        before_present: impl FnOnce(),
    ) -> Result<Drawn, RenderError> {
        let (Some(config), Some(renderer)) = (&self.config, &mut self.renderer) else {
            return Err(RenderError::Surface("the surface is not configured yet".into()));
        };
        let texture = match self.surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t) | wgpu::CurrentSurfaceTexture::Suboptimal(t) => t,
            wgpu::CurrentSurfaceTexture::Outdated | wgpu::CurrentSurfaceTexture::Lost => {
                self.surface.configure(&gpu.device, config);
                return Ok(Drawn::Reconfigured);
            }
            _ => return Ok(Drawn::Skipped),
        };
        let view = texture.texture.create_view(&Default::default());
        renderer.render_to_view(frame, &view);
        before_present();
        gpu.queue.present(texture);
        Ok(Drawn::Presented)
    }
}
