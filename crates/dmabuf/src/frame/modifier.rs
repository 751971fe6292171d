//! DRM format modifiers (`include/uapi/drm/drm_fourcc.h`): a vendor in the
//! top 8 bits, a vendor-defined layout in the low 56.

use std::fmt;

/// A DRM format modifier (`DRM_FORMAT_MOD_*`): how the pixels of a format
/// are laid out in memory (tiling, compression). The top 8 bits name the
/// vendor (`DRM_FORMAT_MOD_VENDOR_*`), the low 56 bits are the vendor's.
///
/// [`Display`](fmt::Display) prints a well-known modifier by name the way
/// `drm_info` does (`LINEAR`, `I915_FORMAT_MOD_X_TILED`,
/// `NVIDIA_BLOCK_LINEAR_2D(h=4, k=0xfe, g=0, s=0, c=0)`), others as
/// `VENDOR(0x…)` with the low 56 bits; `Debug` adds the whole value in hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Modifier(pub u64);

/// The vendors of `drm_fourcc.h`, by id (`DRM_FORMAT_MOD_VENDOR_*`).
const VENDORS: &[(u8, &str)] = &[
    (0x00, "NONE"),
    (0x01, "INTEL"),
    (0x02, "AMD"),
    (0x03, "NVIDIA"),
    (0x04, "SAMSUNG"),
    (0x05, "QCOM"),
    (0x06, "VIVANTE"),
    (0x07, "BROADCOM"),
    (0x08, "ARM"),
    (0x09, "ALLWINNER"),
    (0x0a, "AMLOGIC"),
    (0x0b, "MTK"),
    (0x0c, "APPLE"),
];

const fn code(vendor: u8, value: u64) -> u64 {
    ((vendor as u64) << 56) | (value & 0x00ff_ffff_ffff_ffff)
}

/// Named modifiers (the macro names of `drm_fourcc.h`, `DRM_FORMAT_MOD_`
/// dropped as `drm_info` does; Intel's keep their `I915_FORMAT_MOD_`).
const NAMED: &[(u64, &str)] = &[
    (code(0, 0), "LINEAR"),
    (code(0, 0x00ff_ffff_ffff_ffff), "INVALID"),
    (code(1, 1), "I915_FORMAT_MOD_X_TILED"),
    (code(1, 2), "I915_FORMAT_MOD_Y_TILED"),
    (code(1, 3), "I915_FORMAT_MOD_Yf_TILED"),
    (code(1, 4), "I915_FORMAT_MOD_Y_TILED_CCS"),
    (code(1, 5), "I915_FORMAT_MOD_Yf_TILED_CCS"),
    (code(1, 6), "I915_FORMAT_MOD_Y_TILED_GEN12_RC_CCS"),
    (code(1, 7), "I915_FORMAT_MOD_Y_TILED_GEN12_MC_CCS"),
    (code(1, 8), "I915_FORMAT_MOD_Y_TILED_GEN12_RC_CCS_CC"),
    (code(1, 9), "I915_FORMAT_MOD_4_TILED"),
    (code(1, 10), "I915_FORMAT_MOD_4_TILED_DG2_RC_CCS"),
    (code(1, 11), "I915_FORMAT_MOD_4_TILED_DG2_MC_CCS"),
    (code(1, 12), "I915_FORMAT_MOD_4_TILED_DG2_RC_CCS_CC"),
    (code(1, 13), "I915_FORMAT_MOD_4_TILED_MTL_RC_CCS"),
    (code(1, 14), "I915_FORMAT_MOD_4_TILED_MTL_MC_CCS"),
    (code(1, 15), "I915_FORMAT_MOD_4_TILED_MTL_RC_CCS_CC"),
    (code(1, 16), "I915_FORMAT_MOD_4_TILED_LNL_CCS"),
    (code(1, 17), "I915_FORMAT_MOD_4_TILED_BMG_CCS"),
    (code(3, 1), "NVIDIA_TEGRA_TILED"),
    (code(4, 1), "SAMSUNG_64_32_TILE"),
    (code(4, 2), "SAMSUNG_16_16_TILE"),
    (code(5, 1), "QCOM_COMPRESSED"),
    (code(5, 2), "QCOM_TILED2"),
    (code(5, 3), "QCOM_TILED3"),
    (code(6, 1), "VIVANTE_TILED"),
    (code(6, 2), "VIVANTE_SUPER_TILED"),
    (code(6, 3), "VIVANTE_SPLIT_TILED"),
    (code(6, 4), "VIVANTE_SPLIT_SUPER_TILED"),
    (code(7, 1), "BROADCOM_VC4_T_TILED"),
    (code(7, 6), "BROADCOM_UIF"),
    (code(9, 1), "ALLWINNER_TILED"),
    (code(0x0c, 1), "APPLE_GPU_TILED"),
    (code(0x0c, 2), "APPLE_GPU_TILED_COMPRESSED"),
];

impl Modifier {
    /// `DRM_FORMAT_MOD_LINEAR`: rows one after another, `pitch` bytes apart.
    pub const LINEAR: Modifier = Modifier(0);
    /// `DRM_FORMAT_MOD_INVALID`: no modifier given (the layout is the
    /// driver's implicit one); also a list terminator.
    pub const INVALID: Modifier = Modifier(0x00ff_ffff_ffff_ffff);

    /// The raw `u64`.
    #[must_use]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// The vendor id, the top 8 bits (`DRM_FORMAT_MOD_VENDOR_INTEL` is 1).
    #[must_use]
    pub const fn vendor(self) -> u8 {
        // The shift leaves 8 bits.
        #[allow(clippy::cast_possible_truncation)]
        let v = (self.0 >> 56) as u8;
        v
    }

    /// The vendor-defined low 56 bits.
    #[must_use]
    pub const fn value(self) -> u64 {
        self.0 & 0x00ff_ffff_ffff_ffff
    }

    /// The vendor's name in `drm_fourcc.h` (`"INTEL"`), `None` for an id
    /// the header does not define.
    #[must_use]
    pub fn vendor_name(self) -> Option<&'static str> {
        let v = self.vendor();
        VENDORS.iter().find(|(id, _)| *id == v).map(|(_, n)| *n)
    }

    /// Whether this is [`Modifier::LINEAR`].
    #[must_use]
    pub const fn is_linear(self) -> bool {
        self.0 == 0
    }

    /// A modifier by its [`Display`](fmt::Display) name (`"LINEAR"`,
    /// `"I915_FORMAT_MOD_Y_TILED"`; `DRM_FORMAT_MOD_` in front is also
    /// taken) for the named ones, or a number: `0x` and hex digits, or
    /// decimal digits.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Modifier> {
        let bare = name.strip_prefix("DRM_FORMAT_MOD_").unwrap_or(name);
        if let Some((v, _)) = NAMED.iter().find(|(_, n)| *n == bare) {
            return Some(Modifier(*v));
        }
        parse_u64(name).map(Modifier)
    }

    /// The name of a well-known modifier, without formatting numbers.
    fn known_name(self) -> Option<&'static str> {
        NAMED.iter().find(|(v, _)| *v == self.0).map(|(_, n)| *n)
    }
}

/// `0x` and 1 to 16 hex digits, or decimal digits that fit a `u64`; no sign,
/// no spaces.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (s, 10),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(n) = self.known_name() {
            return f.write_str(n);
        }
        let v = self.value();
        // NVIDIA's 2D block-linear layout: bit 4 set, bits 5..11 and 28..55
        // zero; fields h (log2 of the block height in GOBs), k (page kind),
        // g (GOB height / kind generation), s (sector layout), c (compression).
        if self.vendor() == 3 && v & 0x10 != 0 && v & 0x00ff_ffff_f000_0fe0 == 0 {
            return write!(
                f,
                "NVIDIA_BLOCK_LINEAR_2D(h={}, k={:#x}, g={}, s={}, c={})",
                v & 0xf,
                (v >> 12) & 0xff,
                (v >> 20) & 0x3,
                ((v >> 22) & 0x1) | ((v >> 25) & 0x6),
                (v >> 23) & 0x7
            );
        }
        match self.vendor_name() {
            Some(vendor) => write!(f, "{vendor}({v:#x})"),
            None => write!(f, "{:#018x}", self.0),
        }
    }
}

impl fmt::Debug for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Modifier({self}, {:#018x})", self.0)
    }
}

impl From<u64> for Modifier {
    fn from(v: u64) -> Modifier {
        Modifier(v)
    }
}

impl From<Modifier> for u64 {
    fn from(m: Modifier) -> u64 {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendors() {
        assert_eq!(Modifier(0x0100_0000_0000_0001).vendor(), 1);
        assert_eq!(Modifier(0x0100_0000_0000_0001).vendor_name(), Some("INTEL"));
        assert_eq!(Modifier(0x0c00_0000_0000_0001).vendor_name(), Some("APPLE"));
        assert_eq!(Modifier(0xff00_0000_0000_0000).vendor_name(), None);
        assert_eq!(Modifier(0x0800_0000_0000_1234).value(), 0x1234);
        assert!(Modifier::LINEAR.is_linear() && !Modifier::INVALID.is_linear());
    }

    #[test]
    fn printing() {
        assert_eq!(Modifier::LINEAR.to_string(), "LINEAR");
        assert_eq!(Modifier::INVALID.to_string(), "INVALID");
        assert_eq!(Modifier(0x0100_0000_0000_0001).to_string(), "I915_FORMAT_MOD_X_TILED");
        assert_eq!(Modifier(0x0100_0000_0000_0002).to_string(), "I915_FORMAT_MOD_Y_TILED");
        assert_eq!(Modifier(0x0400_0000_0000_0001).to_string(), "SAMSUNG_64_32_TILE");
        assert_eq!(Modifier(0x0700_0000_0000_0006).to_string(), "BROADCOM_UIF");
        // DRM_FORMAT_MOD_NVIDIA_BLOCK_LINEAR_2D(c=0, s=0, g=2, k=0xfe, h=4)
        let nv = (3u64 << 56) | 0x10 | 4 | (0xfe << 12) | (2 << 20);
        assert_eq!(Modifier(nv).to_string(), "NVIDIA_BLOCK_LINEAR_2D(h=4, k=0xfe, g=2, s=0, c=0)");
        // s's high bits sit at 26..27, c at 23..25.
        let nv = (3u64 << 56) | 0x10 | (1 << 22) | (0x6 << 25) | (0x2 << 23);
        assert_eq!(Modifier(nv).to_string(), "NVIDIA_BLOCK_LINEAR_2D(h=0, k=0x0, g=0, s=7, c=2)");
        // AMD and ARM layouts are bit fields this table does not decode.
        assert_eq!(Modifier(0x0200_0000_0000_1234).to_string(), "AMD(0x1234)");
        assert_eq!(Modifier(0x0800_0000_0000_0001).to_string(), "ARM(0x1)");
        assert_eq!(Modifier(0x0100_0000_0000_00ff).to_string(), "INTEL(0xff)");
        assert_eq!(Modifier(0x0000_0000_0000_0005).to_string(), "NONE(0x5)");
        assert_eq!(Modifier(0xf100_0000_0000_0005).to_string(), "0xf100000000000005");
        assert_eq!(
            format!("{:?}", Modifier(0x0100_0000_0000_0002)),
            "Modifier(I915_FORMAT_MOD_Y_TILED, 0x0100000000000002)"
        );
    }

    #[test]
    fn names_both_ways() {
        for (v, n) in NAMED {
            assert_eq!(Modifier::from_name(n), Some(Modifier(*v)), "{n}");
            assert_eq!(Modifier(*v).to_string(), *n);
        }
        assert_eq!(Modifier::from_name("DRM_FORMAT_MOD_LINEAR"), Some(Modifier::LINEAR));
        assert_eq!(Modifier::from_name("0x0100000000000002"), Some(Modifier(0x0100_0000_0000_0002)));
        assert_eq!(Modifier::from_name("72057594037927937"), Some(Modifier(0x0100_0000_0000_0001)));
        for bad in ["", "0x", "-1", "+1", "0x1g", "0x10000000000000000", "18446744073709551616", "linear", " 0x1"] {
            assert_eq!(Modifier::from_name(bad), None, "{bad:?}");
        }
    }
}
