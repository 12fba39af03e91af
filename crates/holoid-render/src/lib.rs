//! The GPU card renderer (wgpu).
//!
//! Two passes, so a steady-state frame does little work:
//! 1. the **window layer** — paper, guilloche, rosette, portrait, text and the code — is drawn
//!    once per time window into a texture;
//! 2. every **frame** samples that layer and adds the tilt foil, the time sweep, the shake
//!    burst, the clock and the window countdown, or draws the capture-blocked card, which
//!    never binds the window layer, so no personal data can reach a blocked frame.
//!
//! Creation options ([`RendererOptions`]) are apart from per-frame parameters
//! ([`FrameParams`]). The caller may own the device ([`GpuContext`]). Nothing is allocated
//! per frame in steady state except what the caller asks to read back.
//!
//! This crate must not depend on the detector, the simulator or the service's stack (tokio, axum, sqlx).

use std::sync::{Arc, Mutex};

pub mod gpu;
pub mod output;
pub mod readback;
pub mod shaders;
pub mod surface;
pub mod uniforms;

pub use gpu::{GpuContext, RenderError};
use holoid_core::code::{Codeword, Locator, Payload};
use holoid_core::credential::Credential;
use holoid_core::keys::{DeviceKey, DeviceMac, KeystoreError};
use holoid_core::pattern::Pattern;
/// The per-frame inputs, made by the wallet session of `holoid-core`.
pub use holoid_core::session::{CaptureState, FrameParams, Modulation};
use holoid_core::time::UnixMillis;
use holoid_core::timekey::{Window, WindowPeriod, WindowSeed};
use uniforms::{CardUniforms, FrameState};

/// The default texture format the renderer draws in (values are sRGB-encoded, stored as
/// is). [`RendererOptions::format`] may choose [`wgpu::TextureFormat::Bgra8Unorm`] instead,
/// the usual format of window surfaces.
pub const TARGET_FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// The formats the renderer can draw in: 8-bit, not sRGB (the shaders write encoded values).
pub const SUPPORTED_FORMATS: [wgpu::TextureFormat; 2] =
    [wgpu::TextureFormat::Rgba8Unorm, wgpu::TextureFormat::Bgra8Unorm];

/// Options fixed when the renderer is created.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RendererOptions {
    /// Target width in pixels. By default, 1080.
    pub width: u32,
    /// Target height in pixels. By default, 2340. The card keeps its 1080:2340 aspect and is
    /// centred (letterboxed) in other shapes.
    pub height: u32,
    /// The window period. By default, 5 s.
    pub period: WindowPeriod,
    /// Offset of the clock's local time from UTC, seconds. By default, +9 h (KST).
    pub utc_offset_secs: i32,
    /// Amplitude δ of the temporal modulation, as a fraction of full scale. By default,
    /// 0.06: a modulated frame is `clean·(1 − 2δ) + δ ± δ·mask`, so the pair mean is the
    /// clean frame (compressed into [δ, 1 − δ] to leave headroom) and each frame shows the
    /// mark at ±15/255.
    pub modulation_delta: f32,
    /// The format of the target: one of [`SUPPORTED_FORMATS`]. By default, RGBA8.
    pub format: wgpu::TextureFormat,
}

impl Default for RendererOptions {
    fn default() -> Self {
        RendererOptions {
            width: 1080,
            height: 2340,
            period: WindowPeriod::default(),
            utc_offset_secs: 9 * 3600,
            modulation_delta: 0.06,
            format: TARGET_FORMAT,
        }
    }
}

/// The card renderer for one credential.
pub struct CardRenderer {
    ctx: GpuContext,
    options: RendererOptions,
    /// What computes HMACs under the device key: the key, or the host's keystore.
    key: Arc<dyn DeviceMac>,
    /// The keystore's last failure; the card is drawn blank until it answers again.
    key_error: Option<KeystoreError>,
    locator: Locator,
    kit: RenderKit,
    uniforms: wgpu::Buffer,
    window_view: wgpu::TextureView,
    target: wgpu::Texture,
    target_view: wgpu::TextureView,
    window_bind: wgpu::BindGroup,
    frame_bind: wgpu::BindGroup,
    blocked_bind: wgpu::BindGroup,
    mask_bind: wgpu::BindGroup,
    current: Option<(Window, Pattern, Codeword)>,
    layer_window: Option<Window>,
    /// Made on the first read-back: a renderer that only draws to a window never holds it.
    readback: Option<readback::Readback>,
    gpu_bytes: u64,
}

fn texture_2d(
    ctx: &GpuContext,
    format: wgpu::TextureFormat,
    label: &str,
    width: u32,
    height: u32,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    ctx.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

fn upload_rgba(ctx: &GpuContext, label: &str, width: u32, height: u32, rgba: &[u8]) -> wgpu::Texture {
    upload(ctx, TARGET_FORMAT, label, width, height, rgba)
}

/// A sampled texture of `format` (8 bits a channel) filled with `texels`, rows packed.
fn upload(
    ctx: &GpuContext,
    format: wgpu::TextureFormat,
    label: &str,
    width: u32,
    height: u32,
    texels: &[u8],
) -> wgpu::Texture {
    let usage = wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST;
    let texture = texture_2d(ctx, format, label, width, height, usage);
    let bytes_per_texel = texels.len() as u32 / (width * height).max(1);
    ctx.queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture: &texture,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        texels,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(bytes_per_texel * width),
            rows_per_image: Some(height),
        },
        wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
    );
    texture
}

fn layout_entry(binding: u32, ty: wgpu::BindingType) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::FRAGMENT | wgpu::ShaderStages::VERTEX,
        ty,
        count: None,
    }
}

const UNIFORM: wgpu::BindingType = wgpu::BindingType::Buffer {
    ty: wgpu::BufferBindingType::Uniform,
    has_dynamic_offset: false,
    min_binding_size: None,
};
const TEXTURE: wgpu::BindingType = wgpu::BindingType::Texture {
    sample_type: wgpu::TextureSampleType::Float { filterable: true },
    view_dimension: wgpu::TextureViewDimension::D2,
    multisampled: false,
};
const SAMPLER: wgpu::BindingType = wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering);

/// A render pipeline of `module`: vertex entry `vs`, fragment entry `fs`.
struct PipelineSpec<'a> {
    label: &'a str,
    module: &'a wgpu::ShaderModule,
    vs: &'a str,
    fs: &'a str,
    layout: &'a wgpu::BindGroupLayout,
    /// `None` replaces the target; `Some` blends (the burst, the modulation).
    blend: Option<wgpu::BlendState>,
    topology: wgpu::PrimitiveTopology,
    format: wgpu::TextureFormat,
}

fn pipeline(ctx: &GpuContext, spec: PipelineSpec<'_>) -> wgpu::RenderPipeline {
    let pipeline_layout = ctx
        .device
        .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(spec.label),
            bind_group_layouts: &[Some(spec.layout)],
            immediate_size: 0,
        });
    ctx.device
        .create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some(spec.label),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: spec.module,
                entry_point: Some(spec.vs),
                compilation_options: Default::default(),
                buffers: &[],
            },
            primitive: wgpu::PrimitiveState {
                topology: spec.topology,
                ..Default::default()
            },
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: spec.module,
                entry_point: Some(spec.fs),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format: spec.format,
                    blend: spec.blend,
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        })
}

/// The frame pipelines, all drawn with `vs_part` quads (see `shaders/frame.wgsl`).
struct FramePipelines {
    blit: wgpu::RenderPipeline,
    ring: wgpu::RenderPipeline,
    clock: wgpu::RenderPipeline,
    burst: wgpu::RenderPipeline,
    blocked: wgpu::RenderPipeline,
    modulate: wgpu::RenderPipeline,
}

/// How long a shake burst runs, seconds (as in `shaders/frame.wgsl`).
pub const BURST_SECONDS: f32 = 1.2;

/// Quads of `vs_part`: the instance index picks the region.
const PART_WHOLE: u32 = 0;
const PART_RING: u32 = 1;
const PART_CLOCK: u32 = 2;

/// Refuses a size the device cannot draw.
fn check_size(ctx: &GpuContext, options: &RendererOptions) -> Result<(), RenderError> {
    let (width, height) = (options.width, options.height);
    let max = ctx.device.limits().max_texture_dimension_2d;
    if width == 0 || height == 0 || width > max || height > max {
        return Err(RenderError::BadSize { width, height, max });
    }
    Ok(())
}

/// What every card drawn in one target format on one device shares, made once: the shader
/// modules, bind-group layouts and pipelines, the layer sampler and the font system. A
/// renderer made [`with_kit`](CardRenderer::with_kit) from a kit another renderer was made
/// with compiles no shader and loads no font: a second card, or a window resized, costs only
/// its own textures and text layers. Cheap to clone (shared).
#[derive(Clone)]
pub struct RenderKit {
    inner: Arc<KitInner>,
}

struct KitInner {
    ctx: GpuContext,
    format: wgpu::TextureFormat,
    window_layout: wgpu::BindGroupLayout,
    frame_layout: wgpu::BindGroupLayout,
    window_pipeline: wgpu::RenderPipeline,
    frame: FramePipelines,
    sampler: wgpu::Sampler,
    painter: Mutex<holoid_text::TextPainter>,
}

impl std::fmt::Debug for RenderKit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderKit")
            .field("format", &self.inner.format)
            .finish_non_exhaustive()
    }
}

impl RenderKit {
    /// Compiles the shaders and builds the pipelines for `format` (one of
    /// [`SUPPORTED_FORMATS`]) on `ctx`'s device, and loads the bundled fonts.
    pub fn new(ctx: &GpuContext, format: wgpu::TextureFormat) -> Result<RenderKit, RenderError> {
        if !SUPPORTED_FORMATS.contains(&format) {
            return Err(RenderError::Format(format!("{format:?}")));
        }
        let device = &ctx.device;
        let window_module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("holoid window-layer shader"),
            source: wgpu::ShaderSource::Wgsl(shaders::window_source().into()),
        });
        let frame_module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("holoid frame shader"),
            source: wgpu::ShaderSource::Wgsl(shaders::frame_source().into()),
        });
        let window_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("holoid window-layer bindings"),
            entries: &[
                layout_entry(0, UNIFORM),
                layout_entry(1, TEXTURE),
                layout_entry(2, TEXTURE),
                layout_entry(3, SAMPLER),
            ],
        });
        let frame_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("holoid frame bindings"),
            entries: &[
                layout_entry(0, UNIFORM),
                layout_entry(1, TEXTURE),
                layout_entry(2, SAMPLER),
            ],
        });
        let window_pipeline = pipeline(
            ctx,
            PipelineSpec {
                label: "holoid window-layer pipeline",
                module: &window_module,
                vs: "vs_main",
                fs: "fs_window",
                layout: &window_layout,
                blend: None,
                topology: wgpu::PrimitiveTopology::TriangleList,
                format,
            },
        );
        let part = |label, fs, blend| {
            pipeline(
                ctx,
                PipelineSpec {
                    label,
                    module: &frame_module,
                    vs: "vs_part",
                    fs,
                    layout: &frame_layout,
                    blend,
                    topology: wgpu::PrimitiveTopology::TriangleStrip,
                    format,
                },
            )
        };
        // result = modulation value + frame · (1 − 2δ) (the blend constant).
        let compress = wgpu::BlendState {
            color: wgpu::BlendComponent {
                src_factor: wgpu::BlendFactor::One,
                dst_factor: wgpu::BlendFactor::Constant,
                operation: wgpu::BlendOperation::Add,
            },
            alpha: wgpu::BlendComponent::REPLACE,
        };
        let frame = FramePipelines {
            blit: part("holoid frame base (window layer blit)", "fs_blit", None),
            ring: part("holoid frame ring (foil and sweep)", "fs_ring", None),
            clock: part("holoid frame clock", "fs_clock", None),
            burst: part(
                "holoid frame burst",
                "fs_burst",
                Some(wgpu::BlendState::ALPHA_BLENDING),
            ),
            blocked: part("holoid blocked frame", "fs_blocked", None),
            modulate: part("holoid temporal modulation", "fs_modulate", Some(compress)),
        };
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("holoid layer sampler"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        Ok(RenderKit {
            inner: Arc::new(KitInner {
                ctx: ctx.clone(),
                format,
                window_layout,
                frame_layout,
                window_pipeline,
                frame,
                sampler,
                painter: Mutex::new(holoid_text::TextPainter::new()),
            }),
        })
    }

    /// The target format its pipelines draw in.
    pub fn format(&self) -> wgpu::TextureFormat {
        self.inner.format
    }

    /// The device it was made on.
    pub fn gpu(&self) -> &GpuContext {
        &self.inner.ctx
    }

    /// Whether `other` is this kit (a clone of it), not one made apart.
    pub fn same_as(&self, other: &RenderKit) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl CardRenderer {
    /// A renderer for `credential`, drawn with `device_key`; `portrait_png` is the portrait
    /// file's bytes (checked against the credential's hash by the caller). Makes its own
    /// [`RenderKit`]; to draw several cards or sizes, make one kit and use
    /// [`with_kit`](Self::with_kit).
    pub fn new(
        ctx: &GpuContext,
        credential: &Credential,
        device_key: &DeviceKey,
        portrait_png: &[u8],
        options: RendererOptions,
    ) -> Result<CardRenderer, RenderError> {
        check_size(ctx, &options)?;
        let kit = RenderKit::new(ctx, options.format)?;
        CardRenderer::with_kit(&kit, credential, device_key, portrait_png, options)
    }

    /// A renderer for `credential` that shares `kit`'s shaders, pipelines and fonts;
    /// `options.format` must be the kit's.
    pub fn with_kit(
        kit: &RenderKit,
        credential: &Credential,
        device_key: &DeviceKey,
        portrait_png: &[u8],
        options: RendererOptions,
    ) -> Result<CardRenderer, RenderError> {
        let key: Arc<dyn DeviceMac> = Arc::new(device_key.clone());
        CardRenderer::with_kit_mac(kit, credential, key, portrait_png, options)
    }

    /// As [`with_kit`](Self::with_kit), drawing with whatever holds the device key (a host's
    /// keystore that computes HMACs; the caller has checked it against the credential). When
    /// the keystore fails, frames are drawn blank (no pattern, no code) and
    /// [`key_error`](Self::key_error) says why.
    pub fn with_kit_mac(
        kit: &RenderKit,
        credential: &Credential,
        key: Arc<dyn DeviceMac>,
        portrait_png: &[u8],
        options: RendererOptions,
    ) -> Result<CardRenderer, RenderError> {
        let ctx = &kit.inner.ctx;
        check_size(ctx, &options)?;
        if options.format != kit.inner.format {
            return Err(RenderError::Format(format!(
                "{:?} (this renderer kit draws in {:?})",
                options.format, kit.inner.format
            )));
        }
        let (width, height) = (options.width, options.height);
        let portrait = image::load_from_memory(portrait_png)
            .map_err(|e| RenderError::Portrait(e.to_string()))?
            .to_rgba8();
        let device = &ctx.device;
        let (window_layout, frame_layout) = (&kit.inner.window_layout, &kit.inner.frame_layout);
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("holoid card uniforms"),
            size: std::mem::size_of::<CardUniforms>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let layer_usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING;
        let window_layer = texture_2d(
            ctx,
            options.format,
            "holoid window layer",
            width,
            height,
            layer_usage,
        );
        let window_view = window_layer.create_view(&Default::default());
        let target_usage = wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC;
        let target = texture_2d(
            ctx,
            options.format,
            "holoid frame target",
            width,
            height,
            target_usage,
        );
        let target_view = target.create_view(&Default::default());
        let portrait_tex = upload_rgba(
            ctx,
            "holoid portrait",
            portrait.width(),
            portrait.height(),
            &portrait,
        );
        // A panic while another renderer typeset leaves the font system usable: take it.
        let mut painter = kit
            .inner
            .painter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let text_layer = painter.credential_layer(credential, width, height);
        let text_tex = upload_rgba(
            ctx,
            "holoid text layer",
            text_layer.width(),
            text_layer.height(),
            &text_layer,
        );
        // The blocked card binds this generic layer instead of the window layer, so no
        // personal data can reach a blocked frame.
        // Two channels (premultiplied grey, coverage): the words are white and grey.
        let blocked_layer = painter.blocked_layer(width, height);
        let blocked_texels: Vec<u8> = blocked_layer.pixels().flat_map(|p| [p[1], p[3]]).collect();
        let blank = upload(
            ctx,
            wgpu::TextureFormat::Rg8Unorm,
            "holoid capture-blocked text layer",
            blocked_layer.width(),
            blocked_layer.height(),
            &blocked_texels,
        );
        let sampler = &kit.inner.sampler;
        let bind = |label: &str, layout: &wgpu::BindGroupLayout, views: &[&wgpu::TextureView]| {
            let mut entries = vec![wgpu::BindGroupEntry {
                binding: 0,
                resource: uniforms.as_entire_binding(),
            }];
            for (i, v) in views.iter().enumerate() {
                entries.push(wgpu::BindGroupEntry {
                    binding: 1 + i as u32,
                    resource: wgpu::BindingResource::TextureView(v),
                });
            }
            entries.push(wgpu::BindGroupEntry {
                binding: 1 + views.len() as u32,
                resource: wgpu::BindingResource::Sampler(sampler),
            });
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout,
                entries: &entries,
            })
        };
        let portrait_view = portrait_tex.create_view(&Default::default());
        let text_view = text_tex.create_view(&Default::default());
        let window_bind = bind(
            "holoid window-layer bind group",
            window_layout,
            &[&portrait_view, &text_view],
        );
        let frame_bind = bind("holoid frame bind group", frame_layout, &[&window_view]);
        let blank_view = blank.create_view(&Default::default());
        let blocked_bind = bind("holoid blocked-frame bind group", frame_layout, &[&blank_view]);
        // One channel: the mask's coverage.
        let mask = painter.copy_mask(width, height);
        drop(painter);
        let mask_texels: Vec<u8> = mask.pixels().map(|p| p[3]).collect();
        let mask_tex = upload(
            ctx,
            wgpu::TextureFormat::R8Unorm,
            "holoid COPY mask",
            mask.width(),
            mask.height(),
            &mask_texels,
        );
        let mask_view = mask_tex.create_view(&Default::default());
        let mask_bind = bind("holoid modulation bind group", frame_layout, &[&mask_view]);
        let frame_bytes = 4 * u64::from(width) * u64::from(height);
        let gpu_bytes = 2 * frame_bytes
            + 4 * u64::from(portrait.width()) * u64::from(portrait.height())
            + 4 * u64::from(text_layer.width()) * u64::from(text_layer.height())
            + 2 * u64::from(blocked_layer.width()) * u64::from(blocked_layer.height())
            + u64::from(mask.width()) * u64::from(mask.height())
            + std::mem::size_of::<CardUniforms>() as u64
            + 8;
        Ok(CardRenderer {
            ctx: ctx.clone(),
            options,
            key,
            key_error: None,
            locator: Locator::of(&credential.id),
            kit: kit.clone(),
            uniforms,
            window_view,
            target,
            target_view,
            window_bind,
            frame_bind,
            blocked_bind,
            mask_bind,
            current: None,
            layer_window: None,
            readback: None,
            gpu_bytes,
        })
    }

    /// A renderer for a demo identity's card, drawn with its device key and portrait.
    pub fn for_demo(
        ctx: &GpuContext,
        demo: &holoid_core::demo::DemoIdentity,
        options: RendererOptions,
    ) -> Result<CardRenderer, RenderError> {
        let c = &demo.credential.credential;
        CardRenderer::new(
            ctx,
            c,
            &demo.master.device_key_for(c),
            &demo.portrait_png,
            options,
        )
    }

    /// The shared shaders, pipelines and fonts it draws with.
    pub fn kit(&self) -> &RenderKit {
        &self.kit
    }

    /// The options the renderer was created with.
    pub fn options(&self) -> &RendererOptions {
        &self.options
    }

    /// Bytes of GPU memory held in textures and buffers (with the read-back buffer once
    /// a frame has been read back).
    pub fn gpu_memory_bytes(&self) -> u64 {
        self.gpu_bytes + self.readback.as_ref().map_or(0, readback::Readback::buffer_bytes)
    }

    /// The pattern and codeword of the window `time` falls in (derived once per window), or
    /// `None` when the keystore failed (kept in `key_error`).
    fn window_state(&mut self, time: UnixMillis) -> Option<(Window, Pattern, Codeword)> {
        let w = self.options.period.window_at(time);
        if let Some(c) = self.current.as_ref().filter(|c| c.0 == w) {
            return Some(c.clone());
        }
        match WindowSeed::derive_with(&*self.key, w) {
            Ok(seed) => {
                let pattern = Pattern::derive(&seed, w);
                let payload = Payload::issue_with_seed(&seed, self.locator, self.options.period, w);
                let state = (w, pattern, Codeword::encode(&payload));
                self.current = Some(state.clone());
                self.key_error = None;
                Some(state)
            }
            Err(e) => {
                self.current = None;
                self.key_error = Some(e);
                None
            }
        }
    }

    /// Why the last frame was drawn blank because the keystore failed, if it was.
    pub fn key_error(&self) -> Option<&KeystoreError> {
        self.key_error.as_ref()
    }

    /// Draws one frame into `view` (a texture of the renderer's size and format,
    /// e.g. a window surface), and submits the work.
    pub fn render_to_view(&mut self, frame: &FrameParams, view: &wgpu::TextureView) {
        let (w, pattern, codeword, keyed) = match self.window_state(frame.time) {
            Some((w, p, c)) => (w, p, c, true),
            None => {
                // No seed: a stand-in state that is never shown (the frame is drawn blank).
                let w = self.options.period.window_at(frame.time);
                let stand_in = DeviceKey::from_bytes([0; 32]);
                let payload = Payload::issue(&stand_in, self.locator, self.options.period, w);
                (
                    w,
                    Pattern::for_window(&stand_in, w),
                    Codeword::encode(&payload),
                    false,
                )
            }
        };
        let blocked = frame.capture.blocks() || !keyed;
        let modulated = !blocked && frame.modulation != Modulation::Off;
        let state = FrameState {
            time: frame.time,
            period: self.options.period,
            tilt: frame.tilt,
            shake_started: frame.shake_started,
            blocked,
            utc_offset_secs: self.options.utc_offset_secs,
        };
        let mut u = CardUniforms::new(
            self.options.width,
            self.options.height,
            &pattern,
            &codeword,
            &state,
        );
        let delta = self.options.modulation_delta;
        u.state[1] = frame.modulation.sign();
        u.state[2] = delta;
        self.ctx
            .queue
            .write_buffer(&self.uniforms, 0, bytemuck::bytes_of(&u));
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("holoid frame encoder"),
            });
        if !blocked && self.layer_window != Some(w) {
            let parts = [Some(Part {
                pipeline: &self.kit.inner.window_pipeline,
                bind: &self.window_bind,
                vertices: 3,
                instance: 0,
            })];
            draw(
                &mut encoder,
                "holoid window-layer pass",
                &self.window_view,
                &parts,
                1.0,
            );
            self.layer_window = Some(w);
        }
        let f = &self.kit.inner.frame;
        let part = |pipeline, bind, instance| Part {
            pipeline,
            bind,
            vertices: 4,
            instance,
        };
        if blocked {
            let parts = [Some(part(&f.blocked, &self.blocked_bind, PART_WHOLE))];
            draw(&mut encoder, "holoid blocked frame pass", view, &parts, 1.0);
        } else {
            let bursting = u.sweep[3] >= 0.0 && u.sweep[3] <= BURST_SECONDS;
            let all = [
                (true, part(&f.blit, &self.frame_bind, PART_WHOLE)),
                (true, part(&f.ring, &self.frame_bind, PART_RING)),
                (true, part(&f.clock, &self.frame_bind, PART_CLOCK)),
                (bursting, part(&f.burst, &self.frame_bind, PART_WHOLE)),
                (modulated, part(&f.modulate, &self.mask_bind, PART_WHOLE)),
            ];
            let mut parts: [Option<Part<'_>>; 5] = [None; 5];
            for (slot, (on, p)) in parts.iter_mut().zip(all) {
                *slot = on.then_some(p);
            }
            draw(
                &mut encoder,
                "holoid frame pass",
                view,
                &parts,
                1.0 - 2.0 * f64::from(delta),
            );
        }
        self.ctx.queue.submit([encoder.finish()]);
    }

    /// Draws one frame into the renderer's own target.
    pub fn render(&mut self, frame: &FrameParams) {
        let view = self.target_view.clone();
        self.render_to_view(frame, &view);
    }

    /// Draws one frame and reads it back as an RGBA image.
    pub fn render_to_image(&mut self, frame: &FrameParams) -> Result<image::RgbaImage, RenderError> {
        self.render(frame);
        let (ctx, target, readback) = self.readback_parts();
        readback.read(ctx, target)
    }

    /// Draws one frame and reads it back into `out` as tightly packed RGBA rows (width × height
    /// × 4 bytes, exactly); the caller owns the memory.
    pub fn render_into(&mut self, frame: &FrameParams, out: &mut [u8]) -> Result<(), RenderError> {
        self.render(frame);
        let (ctx, target, readback) = self.readback_parts();
        readback.read_into(ctx, target, out)
    }

    /// The device, the target and the read-back buffer (made on first use).
    fn readback_parts(&mut self) -> (&GpuContext, &wgpu::Texture, &readback::Readback) {
        let (ctx, options) = (&self.ctx, &self.options);
        let readback = self.readback.get_or_insert_with(|| {
            readback::Readback::new(ctx, options.width, options.height, options.format)
        });
        (&self.ctx, &self.target, readback)
    }

    /// The benchmark floor: a plain full-screen texture blit of the same size into the target.
    pub fn render_blit_floor(&mut self) {
        let mut encoder = self
            .ctx
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("holoid blit encoder"),
            });
        let parts = [Some(Part {
            pipeline: &self.kit.inner.frame.blit,
            bind: &self.frame_bind,
            vertices: 4,
            instance: PART_WHOLE,
        })];
        draw(&mut encoder, "holoid blit pass", &self.target_view, &parts, 1.0);
        self.ctx.queue.submit([encoder.finish()]);
    }

    /// Forgets the cached window layer, so the next frame is drawn cold (for benchmarks).
    pub fn invalidate_window_layer(&mut self) {
        self.layer_window = None;
    }

    /// Blocks until the GPU has finished all submitted work.
    pub fn wait_idle(&self) -> Result<(), RenderError> {
        self.ctx
            .device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| RenderError::Readback(e.to_string()))
    }
}

/// One draw of a full-screen triangle (3 vertices) or a `vs_part` quad (4).
#[derive(Clone, Copy)]
struct Part<'a> {
    pipeline: &'a wgpu::RenderPipeline,
    bind: &'a wgpu::BindGroup,
    vertices: u32,
    instance: u32,
}

/// One render pass into `view` (cleared to black) drawing `parts` in order; `blend` is
/// the blend constant (the modulation's compression factor).
fn draw(
    encoder: &mut wgpu::CommandEncoder,
    label: &str,
    view: &wgpu::TextureView,
    parts: &[Option<Part<'_>>],
    blend: f64,
) {
    let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    });
    pass.set_blend_constant(wgpu::Color {
        r: blend,
        g: blend,
        b: blend,
        a: 1.0,
    });
    for p in parts.iter().flatten() {
        pass.set_pipeline(p.pipeline);
        pass.set_bind_group(0, p.bind, &[]);
        pass.draw(0..p.vertices, p.instance..p.instance + 1);
    }
}
