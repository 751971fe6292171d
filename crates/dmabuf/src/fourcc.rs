//! DRM fourcc codes (`include/uapi/drm/drm_fourcc.h`) and a table of the
//! common formats: plane count, bytes per pixel of each plane, subsampling.

use std::fmt;

/// A DRM pixel format code (`DRM_FORMAT_*`): four ASCII characters packed
/// little-endian into a `u32` (`'N' | 'V' << 8 | '1' << 16 | '2' << 24` is
/// NV12), bit 31 set for the big-endian variant (`DRM_FORMAT_BIG_ENDIAN`).
///
/// [`Display`](fmt::Display) prints the four characters (`XR24`), [`Fourcc::name`]
/// the macro's name without `DRM_FORMAT_` (`XRGB8888`); `Debug` shows both.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fourcc(pub u32);

/// `DRM_FORMAT_BIG_ENDIAN`: the format's components are big-endian.
pub const BIG_ENDIAN: u32 = 1 << 31;

/// One row of the format table: how a format lays out its planes.
///
/// Plane 0 is always full resolution; planes 1 and up (chroma) are
/// `ceil(width / hsub)` by `ceil(height / vsub)` pixels. Packed YUV formats
/// (YUYV and friends) report `hsub` 2 as the kernel does, which only matters
/// for the width of their one plane's macropixel, not for the row size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatInfo {
    /// The code.
    pub fourcc: Fourcc,
    /// The `DRM_FORMAT_` macro's name without its prefix: `"NV12"`.
    pub name: &'static str,
    /// Number of planes.
    pub planes: u8,
    /// Bytes per pixel of each plane (0 past `planes`).
    pub cpp: [u8; 4],
    /// Horizontal subsampling of planes 1 and up.
    pub hsub: u8,
    /// Vertical subsampling of planes 1 and up.
    pub vsub: u8,
    /// Whether the format is YUV (else RGB or single-channel).
    pub is_yuv: bool,
}

impl FormatInfo {
    /// Pixels per row of plane `plane`: the width divided by the horizontal
    /// subsampling for planes 1 and up, rounded up.
    #[must_use]
    pub fn plane_width(&self, plane: usize, width: u32) -> u32 {
        if plane == 0 {
            width
        } else {
            width.div_ceil(u32::from(self.hsub))
        }
    }

    /// Rows of plane `plane`: the height divided by the vertical
    /// subsampling for planes 1 and up, rounded up.
    #[must_use]
    pub fn plane_height(&self, plane: usize, height: u32) -> u32 {
        if plane == 0 {
            height
        } else {
            height.div_ceil(u32::from(self.vsub))
        }
    }

    /// The fewest bytes a row of plane `plane` takes at `width` pixels
    /// (`plane_width * cpp`), in `u64` so that it cannot overflow. 0 for a
    /// plane the format does not have.
    #[must_use]
    pub fn row_bytes(&self, plane: usize, width: u32) -> u64 {
        let cpp = self.cpp.get(plane).copied().unwrap_or(0);
        u64::from(self.plane_width(plane, width)) * u64::from(cpp)
    }
}

macro_rules! formats {
    ($( $name:ident = $code:literal, planes $p:literal, cpp [$($c:literal),*], sub $h:literal x $v:literal, $yuv:literal; )*) => {
        impl Fourcc {
            $(
                #[doc = concat!("`DRM_FORMAT_", stringify!($name), "` (`", $code, "`).")]
                pub const $name: Fourcc = Fourcc::from_code_str($code);
            )*
        }

        /// The common formats, in `drm_fourcc.h` order within each family.
        pub static FORMATS: &[FormatInfo] = &[
            $(FormatInfo {
                fourcc: Fourcc::$name,
                name: stringify!($name),
                planes: $p,
                cpp: cpp4(&[$($c),*]),
                hsub: $h,
                vsub: $v,
                is_yuv: $yuv,
            },)*
        ];
    };
}

const fn cpp4(c: &[u8]) -> [u8; 4] {
    let mut out = [0u8; 4];
    let mut i = 0;
    while i < c.len() {
        out[i] = c[i];
        i += 1;
    }
    out
}

formats! {
    R8 = "R8  ", planes 1, cpp [1], sub 1 x 1, false;
    R16 = "R16 ", planes 1, cpp [2], sub 1 x 1, false;
    GR88 = "GR88", planes 1, cpp [2], sub 1 x 1, false;
    RG88 = "RG88", planes 1, cpp [2], sub 1 x 1, false;
    RGB565 = "RG16", planes 1, cpp [2], sub 1 x 1, false;
    BGR565 = "BG16", planes 1, cpp [2], sub 1 x 1, false;
    RGB888 = "RG24", planes 1, cpp [3], sub 1 x 1, false;
    BGR888 = "BG24", planes 1, cpp [3], sub 1 x 1, false;
    XRGB8888 = "XR24", planes 1, cpp [4], sub 1 x 1, false;
    XBGR8888 = "XB24", planes 1, cpp [4], sub 1 x 1, false;
    RGBX8888 = "RX24", planes 1, cpp [4], sub 1 x 1, false;
    BGRX8888 = "BX24", planes 1, cpp [4], sub 1 x 1, false;
    ARGB8888 = "AR24", planes 1, cpp [4], sub 1 x 1, false;
    ABGR8888 = "AB24", planes 1, cpp [4], sub 1 x 1, false;
    RGBA8888 = "RA24", planes 1, cpp [4], sub 1 x 1, false;
    BGRA8888 = "BA24", planes 1, cpp [4], sub 1 x 1, false;
    XRGB2101010 = "XR30", planes 1, cpp [4], sub 1 x 1, false;
    XBGR2101010 = "XB30", planes 1, cpp [4], sub 1 x 1, false;
    ARGB2101010 = "AR30", planes 1, cpp [4], sub 1 x 1, false;
    ABGR2101010 = "AB30", planes 1, cpp [4], sub 1 x 1, false;
    XRGB16161616 = "XR48", planes 1, cpp [8], sub 1 x 1, false;
    XBGR16161616 = "XB48", planes 1, cpp [8], sub 1 x 1, false;
    ARGB16161616 = "AR48", planes 1, cpp [8], sub 1 x 1, false;
    ABGR16161616 = "AB48", planes 1, cpp [8], sub 1 x 1, false;
    XRGB16161616F = "XR4H", planes 1, cpp [8], sub 1 x 1, false;
    XBGR16161616F = "XB4H", planes 1, cpp [8], sub 1 x 1, false;
    ARGB16161616F = "AR4H", planes 1, cpp [8], sub 1 x 1, false;
    ABGR16161616F = "AB4H", planes 1, cpp [8], sub 1 x 1, false;
    YUYV = "YUYV", planes 1, cpp [2], sub 2 x 1, true;
    YVYU = "YVYU", planes 1, cpp [2], sub 2 x 1, true;
    UYVY = "UYVY", planes 1, cpp [2], sub 2 x 1, true;
    VYUY = "VYUY", planes 1, cpp [2], sub 2 x 1, true;
    NV12 = "NV12", planes 2, cpp [1, 2], sub 2 x 2, true;
    NV21 = "NV21", planes 2, cpp [1, 2], sub 2 x 2, true;
    NV16 = "NV16", planes 2, cpp [1, 2], sub 2 x 1, true;
    NV61 = "NV61", planes 2, cpp [1, 2], sub 2 x 1, true;
    NV24 = "NV24", planes 2, cpp [1, 2], sub 1 x 1, true;
    NV42 = "NV42", planes 2, cpp [1, 2], sub 1 x 1, true;
    P010 = "P010", planes 2, cpp [2, 4], sub 2 x 2, true;
    P012 = "P012", planes 2, cpp [2, 4], sub 2 x 2, true;
    P016 = "P016", planes 2, cpp [2, 4], sub 2 x 2, true;
    YUV420 = "YU12", planes 3, cpp [1, 1, 1], sub 2 x 2, true;
    YVU420 = "YV12", planes 3, cpp [1, 1, 1], sub 2 x 2, true;
    YUV422 = "YU16", planes 3, cpp [1, 1, 1], sub 2 x 1, true;
    YVU422 = "YV16", planes 3, cpp [1, 1, 1], sub 2 x 1, true;
    YUV444 = "YU24", planes 3, cpp [1, 1, 1], sub 1 x 1, true;
    YVU444 = "YV24", planes 3, cpp [1, 1, 1], sub 1 x 1, true;
}

impl Fourcc {
    /// `fourcc_code(a, b, c, d)`: the code of four characters.
    #[must_use]
    pub const fn from_chars(c: [u8; 4]) -> Fourcc {
        Fourcc(u32::from_le_bytes(c))
    }

    /// The code of a four-character literal; a compile error otherwise.
    const fn from_code_str(s: &str) -> Fourcc {
        let b = s.as_bytes();
        assert!(b.len() == 4, "a fourcc is four characters");
        Fourcc::from_chars([b[0], b[1], b[2], b[3]])
    }

    /// The raw `u32`.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// A format by name: the `DRM_FORMAT_` macro's name without its prefix
    /// (`"NV12"`, `"XRGB8888"`, `"YUV420"`, case-insensitive) for the
    /// formats of [`FORMATS`], or else the code's own characters, one to
    /// four of them, padded with spaces (`"XR24"`, `"R8"`; case kept, as
    /// codes are case-sensitive). `None` for an empty string, more than
    /// four characters that are no table name, or non-printable characters.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Fourcc> {
        if let Some(f) = FORMATS.iter().find(|f| f.name.eq_ignore_ascii_case(name)) {
            return Some(f.fourcc);
        }
        let b = name.as_bytes();
        if b.is_empty() || b.len() > 4 || !b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
            return None;
        }
        let mut c = [b' '; 4];
        c[..b.len()].copy_from_slice(b);
        Some(Fourcc::from_chars(c))
    }

    /// The format's row of [`FORMATS`], if it is there.
    #[must_use]
    pub fn info(self) -> Option<&'static FormatInfo> {
        FORMATS.iter().find(|f| f.fourcc == self)
    }

    /// The `DRM_FORMAT_` macro's name without its prefix (`"XRGB8888"`) for
    /// a format of [`FORMATS`]; otherwise the code's characters as
    /// [`Display`](fmt::Display) prints them.
    #[must_use]
    pub fn name(self) -> String {
        match self.info() {
            Some(f) => f.name.to_owned(),
            None => self.to_string(),
        }
    }

    /// The four characters, when every one is printable ASCII (bit 31,
    /// `DRM_FORMAT_BIG_ENDIAN`, cleared first).
    fn chars(self) -> Option<[u8; 4]> {
        let c = (self.0 & !BIG_ENDIAN).to_le_bytes();
        c.iter().all(|b| b.is_ascii_graphic() || *b == b' ').then_some(c)
    }
}

impl fmt::Display for Fourcc {
    /// The four characters (`NV12`, `R8  `), with ` (big-endian)` when bit
    /// 31 is set; `0x` and eight hex digits when a character is not
    /// printable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.chars() {
            Some(c) => {
                for b in c {
                    write!(f, "{}", char::from(b))?;
                }
                if self.0 & BIG_ENDIAN != 0 {
                    f.write_str(" (big-endian)")?;
                }
                Ok(())
            }
            None => write!(f, "{:#010x}", self.0),
        }
    }
}

impl fmt::Debug for Fourcc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info() {
            Some(i) => write!(f, "Fourcc({} \"{self}\" {:#010x})", i.name, self.0),
            None => write!(f, "Fourcc(\"{self}\" {:#010x})", self.0),
        }
    }
}

impl From<u32> for Fourcc {
    fn from(v: u32) -> Fourcc {
        Fourcc(v)
    }
}

impl From<Fourcc> for u32 {
    fn from(f: Fourcc) -> u32 {
        f.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_drm_fourcc_h() {
        // Values from drm_fourcc.h's fourcc_code(), computed by hand.
        assert_eq!(Fourcc::NV12.raw(), 0x3231_564e);
        assert_eq!(Fourcc::XRGB8888.raw(), 0x3432_5258);
        assert_eq!(Fourcc::R8.raw(), 0x2020_3852);
        assert_eq!(Fourcc::YUV420.raw(), 0x3231_5559);
        assert_eq!(Fourcc::XRGB16161616.raw(), u32::from_le_bytes(*b"XR48"));
        assert_eq!(Fourcc::ARGB16161616F.raw(), u32::from_le_bytes(*b"AR4H"));
    }

    #[test]
    fn names_both_ways() {
        for f in FORMATS {
            assert_eq!(Fourcc::from_name(f.name), Some(f.fourcc), "{}", f.name);
            assert_eq!(f.fourcc.name(), f.name);
            assert_eq!(Fourcc::from_name(&f.fourcc.to_string()), Some(f.fourcc), "{}", f.name);
            assert_eq!(f.fourcc.info(), Some(f));
        }
        assert_eq!(Fourcc::from_name("xrgb8888"), Some(Fourcc::XRGB8888));
        assert_eq!(Fourcc::from_name("XR24"), Some(Fourcc::XRGB8888));
        assert_eq!(Fourcc::from_name("R8"), Some(Fourcc::R8));
        assert_eq!(Fourcc::from_name("YU12"), Some(Fourcc::YUV420));
        assert_eq!(Fourcc::from_name(""), None);
        assert_eq!(Fourcc::from_name("TOOLONG"), None);
        assert_eq!(Fourcc::from_name("N\u{1}12"), None);
        assert_eq!(Fourcc::from_name("NV1é"), None);
        // Not in the table: the characters are the name.
        let q = Fourcc::from_name("Q123").unwrap();
        assert_eq!(q.name(), "Q123");
        assert_eq!(q.info(), None);
    }

    #[test]
    fn display_and_debug() {
        assert_eq!(Fourcc::XRGB8888.to_string(), "XR24");
        assert_eq!(Fourcc::R8.to_string(), "R8  ");
        assert_eq!(format!("{:?}", Fourcc::NV12), "Fourcc(NV12 \"NV12\" 0x3231564e)");
        assert_eq!(format!("{:?}", Fourcc::XRGB8888), "Fourcc(XRGB8888 \"XR24\" 0x34325258)");
        assert_eq!(Fourcc(Fourcc::XRGB8888.raw() | BIG_ENDIAN).to_string(), "XR24 (big-endian)");
        assert_eq!(Fourcc(0x0102_0304).to_string(), "0x01020304");
        assert_eq!(format!("{:?}", Fourcc(0)), "Fourcc(\"0x00000000\" 0x00000000)");
    }

    #[test]
    fn table_is_consistent() {
        for (i, f) in FORMATS.iter().enumerate() {
            assert!((1..=4).contains(&f.planes), "{}", f.name);
            for p in 0..4 {
                assert_eq!(f.cpp[p] != 0, p < usize::from(f.planes), "{} plane {p}", f.name);
            }
            assert!(f.hsub >= 1 && f.vsub >= 1, "{}", f.name);
            assert!(FORMATS[..i].iter().all(|g| g.fourcc != f.fourcc && g.name != f.name), "{} twice", f.name);
        }
    }

    #[test]
    fn plane_geometry() {
        let nv12 = Fourcc::NV12.info().unwrap();
        assert_eq!((nv12.planes, nv12.hsub, nv12.vsub), (2, 2, 2));
        assert_eq!(nv12.row_bytes(0, 641), 641);
        assert_eq!(nv12.row_bytes(1, 641), 642); // 321 CbCr pairs of 2 bytes
        assert_eq!(nv12.plane_height(1, 481), 241);
        assert_eq!(nv12.row_bytes(2, 641), 0);
        let p010 = Fourcc::P010.info().unwrap();
        assert_eq!((p010.row_bytes(0, 64), p010.row_bytes(1, 64)), (128, 128));
        let yuyv = Fourcc::YUYV.info().unwrap();
        assert_eq!(yuyv.row_bytes(0, 640), 1280);
        let yu12 = Fourcc::YUV420.info().unwrap();
        assert_eq!((yu12.row_bytes(1, 640), yu12.plane_height(2, 480)), (320, 240));
        let nv24 = Fourcc::NV24.info().unwrap();
        assert_eq!(nv24.row_bytes(1, 640), 1280);
        assert_eq!(Fourcc::RGB888.info().unwrap().row_bytes(0, 3), 9);
        assert_eq!(Fourcc::XRGB16161616.info().unwrap().row_bytes(0, u32::MAX), u64::from(u32::MAX) * 8);
    }
}
