//! Where everything sits on the card, in design units.
//!
//! The card is laid out on a 1080 × 2340 design canvas (portrait phone). A renderer maps it
//! onto a screen of any size with one uniform scale (letterboxed when the aspect differs);
//! a detector maps it back from a photo with a homography found from the four corner marks
//! of [`crate::code::geometry`]. These rectangles are the contract between the two sides.
//! Plain data: no GPU or I/O types.

/// Width of the design canvas.
pub const CARD_WIDTH: f32 = 1080.0;
/// Height of the design canvas.
pub const CARD_HEIGHT: f32 = 2340.0;

/// An axis-aligned rectangle in design units (origin top-left, y down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub w: f32,
    /// Height.
    pub h: f32,
}

impl Rect {
    /// The rectangle with this top-left corner and size.
    pub const fn new(x: f32, y: f32, w: f32, h: f32) -> Rect {
        Rect { x, y, w, h }
    }

    /// The centre point.
    pub fn center(&self) -> [f32; 2] {
        [self.x + self.w / 2.0, self.y + self.h / 2.0]
    }

    /// Whether the two rectangles share any area.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// Whether the rectangle lies inside the card.
    pub fn inside_card(&self) -> bool {
        self.x >= 0.0 && self.y >= 0.0 && self.x + self.w <= CARD_WIDTH && self.y + self.h <= CARD_HEIGHT
    }
}

/// A ring (annulus) in design units: the time sweep runs around it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ring {
    /// Centre point.
    pub center: [f32; 2],
    /// Inner radius.
    pub inner: f32,
    /// Outer radius.
    pub outer: f32,
}

impl Ring {
    /// The square that bounds the ring.
    pub fn bounds(&self) -> Rect {
        Rect::new(
            self.center[0] - self.outer,
            self.center[1] - self.outer,
            2.0 * self.outer,
            2.0 * self.outer,
        )
    }
}

/// The regions of the card. The guilloche background and the foil cover the whole card
/// behind them; the code regions come from [`crate::code::geometry::CodeGeometry`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CardLayout {
    /// Issuer header ("주민등록증 / RESIDENT REGISTRATION CARD"), between the top corner marks.
    pub header: Rect,
    /// The holder's portrait, 3:4.
    pub portrait: Rect,
    /// Name in Hangul and Latin, birth date, masked resident number.
    pub identity_fields: Rect,
    /// Address.
    pub address: Rect,
    /// Issue and expiry dates.
    pub dates: Rect,
    /// The holographic emblem (rosette) inside the sweep ring.
    pub emblem: Rect,
    /// The time sweep: its phase encodes time inside the window.
    pub sweep: Ring,
    /// Live clock (HH:MM:SS) and window countdown for human verifiers.
    pub clock: Rect,
    /// Issuer fine print between the bottom corner marks.
    pub footer: Rect,
}

impl CardLayout {
    /// The standard layout of the 1080 × 2340 design canvas.
    pub const STANDARD: CardLayout = CardLayout {
        header: Rect::new(240.0, 48.0, 600.0, 168.0),
        portrait: Rect::new(80.0, 280.0, 360.0, 480.0),
        identity_fields: Rect::new(480.0, 280.0, 520.0, 480.0),
        address: Rect::new(80.0, 800.0, 920.0, 120.0),
        dates: Rect::new(80.0, 940.0, 920.0, 130.0),
        emblem: Rect::new(400.0, 1240.0, 280.0, 280.0),
        sweep: Ring {
            center: [540.0, 1380.0],
            inner: 200.0,
            outer: 260.0,
        },
        clock: Rect::new(240.0, 1660.0, 600.0, 100.0),
        footer: Rect::new(240.0, 2148.0, 600.0, 144.0),
    };

    /// The regions that must not overlap each other, with their names (the emblem lies
    /// inside the sweep ring and is left out).
    pub fn regions(&self) -> [(&'static str, Rect); 8] {
        [
            ("header", self.header),
            ("portrait", self.portrait),
            ("identity_fields", self.identity_fields),
            ("address", self.address),
            ("dates", self.dates),
            ("sweep", self.sweep.bounds()),
            ("clock", self.clock),
            ("footer", self.footer),
        ]
    }
}
