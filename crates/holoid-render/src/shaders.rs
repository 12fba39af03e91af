//! Every WGSL shader, loaded in one place. Each shader is `common.wgsl` followed by its own
//! file; `build.rs` joins and validates the same lists with naga at build time.

/// The window-layer shader (`fs_window`): what changes once per time window.
pub fn window_source() -> String {
    [
        include_str!("../shaders/common.wgsl"),
        include_str!("../shaders/window.wgsl"),
    ]
    .join("\n")
}

/// The frame shader (`fs_frame`, and `fs_blit`, the benchmark floor).
pub fn frame_source() -> String {
    [
        include_str!("../shaders/common.wgsl"),
        include_str!("../shaders/frame.wgsl"),
    ]
    .join("\n")
}
