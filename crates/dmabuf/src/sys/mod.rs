//! The raw kernel interface, private to the crate: one file per uapi header.
//!
//! | file | header | ioctls |
//! |---|---|---|
//! | [`dma_buf`] | `<linux/dma-buf.h>` | `DMA_BUF_IOCTL_SYNC`, `DMA_BUF_SET_NAME_B`, `DMA_BUF_IOCTL_EXPORT_SYNC_FILE`, `DMA_BUF_IOCTL_IMPORT_SYNC_FILE` |
//! | [`sync_file`] | `<linux/sync_file.h>` | `SYNC_IOC_MERGE`, `SYNC_IOC_FILE_INFO` |
//! | [`dma_heap`] | `<linux/dma-heap.h>` | `DMA_HEAP_IOCTL_ALLOC` |
//! | [`udmabuf`] | `<linux/udmabuf.h>` | `UDMABUF_CREATE`, `UDMABUF_CREATE_LIST` |
//! | [`drm`] | `<drm/drm.h>`, `<drm/drm_mode.h>` | `DRM_IOCTL_VERSION`, `DRM_IOCTL_SET_CLIENT_CAP`, `DRM_IOCTL_SET_MASTER`/`DROP_MASTER`, `DRM_IOCTL_GEM_CLOSE`, `DRM_IOCTL_PRIME_HANDLE_TO_FD`, `DRM_IOCTL_PRIME_FD_TO_HANDLE`, `DRM_IOCTL_MODE_CREATE_DUMB` |
//! | [`drm_mode`] | `<drm/drm_mode.h>` (numbers from `drm.h`) | `DRM_IOCTL_MODE_GETRESOURCES`, `GETCRTC`, `GETENCODER`, `GETCONNECTOR`, `GETPROPERTY`, `GETPROPBLOB`, `RMFB`, `GETPLANERESOURCES`, `GETPLANE`, `ADDFB2`, `OBJ_GETPROPERTIES`, `ATOMIC`, `CREATEPROPBLOB`, `DESTROYPROPBLOB` |
//! | [`vgem`] | `<drm/vgem_drm.h>` | `DRM_IOCTL_VGEM_FENCE_ATTACH`, `DRM_IOCTL_VGEM_FENCE_SIGNAL` |
//! | [`dmx`] | `<linux/dvb/dmx.h>` | `DMX_START`, `DMX_STOP`, `DMX_SET_FILTER`, `DMX_SET_PES_FILTER`, `DMX_SET_BUFFER_SIZE`, `DMX_REQBUFS`, `DMX_QUERYBUF`, `DMX_EXPBUF`, `DMX_QBUF`, `DMX_DQBUF` |
//! | [`frontend`] | `<linux/dvb/frontend.h>` | `FE_GET_INFO`, `FE_READ_STATUS`, `FE_SET_PROPERTY`, `FE_GET_PROPERTY` |
//! | [`videodev2`] | `<linux/videodev2.h>` | `VIDIOC_QUERYCAP`, `VIDIOC_ENUM_FMT`, `VIDIOC_G_FMT`/`S_FMT`/`TRY_FMT`, `VIDIOC_REQBUFS`, `VIDIOC_CREATE_BUFS`, `VIDIOC_QUERYBUF`, `VIDIOC_EXPBUF`, `VIDIOC_QBUF`/`DQBUF`, `VIDIOC_STREAMON`/`OFF`, `VIDIOC_G_PARM`/`S_PARM`, `VIDIOC_G_CTRL`/`S_CTRL`, `VIDIOC_QUERY_EXT_CTRL`, `VIDIOC_QUERYMENU`, `VIDIOC_G_EXT_CTRLS`/`S_EXT_CTRLS`/`TRY_EXT_CTRLS`, `VIDIOC_G_INPUT`/`S_INPUT`/`G_OUTPUT`/`S_OUTPUT`, `VIDIOC_SUBSCRIBE_EVENT`/`UNSUBSCRIBE_EVENT`/`DQEVENT`, `VIDIOC_ENCODER_CMD`/`TRY_ENCODER_CMD`, `VIDIOC_DECODER_CMD`/`TRY_DECODER_CMD`, `VIDIOC_G_SELECTION`/`S_SELECTION` |
//!
//! Each file holds the header's `#[repr(C)]` structs (hand-copied: they are
//! few and small, and a build-time bindgen would need libclang on every
//! machine that builds the crate), compile-time assertions of their sizes,
//! and one [`ioctls!`] block that declares every ioctl exactly once. That
//! block produces both the `nix` call and the entry of the request-code
//! table that `tests/headers.rs` compares with the C headers' macros, so the
//! two cannot drift apart. Opcodes come from `nix`'s `_IOC` macros, never
//! hard-coded numbers, so they follow each architecture's encoding.
//!
//! Nothing outside `sys` calls an ioctl. Each file's `pub(crate)` wrappers
//! take `BorrowedFd`s, call the ioctl once, turn an errno into an
//! [`Error`](crate::Error) naming the ioctl and the fd, and make any fd the
//! kernel returns an `OwnedFd` on the line it arrives. `nix`'s raw
//! functions take a `c_int`: the conversion happens only here.

use std::ffi::c_char;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

pub(crate) mod dma_buf;
pub(crate) mod dma_heap;
pub(crate) mod dmx;
pub(crate) mod drm;
pub(crate) mod drm_mode;
pub(crate) mod frontend;
pub(crate) mod sync_file;
pub(crate) mod udmabuf;
pub(crate) mod vgem;
// System calls of fdpass (not ioctls: no request codes).
pub(crate) mod pidfd;
pub(crate) mod socket;
pub(crate) mod videodev2;

/// A header's fixed `char` array (a driver, property or fence name) as a
/// string: up to the first NUL, invalid UTF-8 replaced.
pub(crate) fn c_chars(name: &[c_char]) -> String {
    let bytes: Vec<u8> = name.iter().take_while(|&&c| c != 0).map(|&c| c.to_ne_bytes()[0]).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Declares a header's ioctls once each. For every line
/// `kind NAME = function(magic, number, Type);` it makes the `nix` function
/// (`kind` is `readwrite` or `write`, as `_IOWR` / `_IOW`) and adds
/// `("NAME", request code)` to the header's `REQUEST_CODES`.
///
/// `read` is `_IOR`; `none NAME = function(magic, number, ())` is `_IO`
/// with no argument, and `write_int` is `_IO` whose argument is an integer
/// passed by value (`DMX_SET_BUFFER_SIZE`).
///
/// `write_bad NAME = function(magic, number, SizeType) -> ArgType;` is for an
/// ioctl whose declared size type differs from what its argument points at
/// (`DMA_BUF_SET_NAME_B` is declared with `__u64` but takes the string).
macro_rules! ioctls {
    ($($(#[$attr:meta])* $kind:ident $name:ident = $func:ident($magic:expr, $nr:expr, $ty:ty) $(-> $arg:ty)?;)*) => {
        $( $crate::sys::ioctls!(@fn $(#[$attr])* $kind $func($magic, $nr, $ty) $(-> $arg)?); )*

        /// Every ioctl of this header by its uapi name, with its request code.
        pub(crate) const REQUEST_CODES: &[(&str, u64)] = &[
            $( (stringify!($name), $crate::sys::ioctls!(@code $kind($magic, $nr, $ty)) as u64), )*
        ];
    };
    (@fn $(#[$attr:meta])* readwrite $func:ident($magic:expr, $nr:expr, $ty:ty)) => {
        nix::ioctl_readwrite!($(#[$attr])* $func, $magic, $nr, $ty);
    };
    (@fn $(#[$attr:meta])* read $func:ident($magic:expr, $nr:expr, $ty:ty)) => {
        nix::ioctl_read!($(#[$attr])* $func, $magic, $nr, $ty);
    };
    (@fn $(#[$attr:meta])* write $func:ident($magic:expr, $nr:expr, $ty:ty)) => {
        nix::ioctl_write_ptr!($(#[$attr])* $func, $magic, $nr, $ty);
    };
    (@fn $(#[$attr:meta])* write_bad $func:ident($magic:expr, $nr:expr, $ty:ty) -> $arg:ty) => {
        nix::ioctl_write_ptr_bad!(
            $(#[$attr])* $func,
            nix::request_code_write!($magic, $nr, ::std::mem::size_of::<$ty>()),
            $arg
        );
    };
    (@fn $(#[$attr:meta])* none $func:ident($magic:expr, $nr:expr, $ty:ty)) => {
        nix::ioctl_none!($(#[$attr])* $func, $magic, $nr);
    };
    (@fn $(#[$attr:meta])* write_int $func:ident($magic:expr, $nr:expr, $ty:ty)) => {
        nix::ioctl_write_int_bad!($(#[$attr])* $func, nix::request_code_none!($magic, $nr));
    };
    (@code read($magic:expr, $nr:expr, $ty:ty)) => {
        nix::request_code_read!($magic, $nr, ::std::mem::size_of::<$ty>())
    };
    (@code none($magic:expr, $nr:expr, $ty:ty)) => {
        nix::request_code_none!($magic, $nr)
    };
    (@code write_int($magic:expr, $nr:expr, $ty:ty)) => {
        nix::request_code_none!($magic, $nr)
    };
    (@code readwrite($magic:expr, $nr:expr, $ty:ty)) => {
        nix::request_code_readwrite!($magic, $nr, ::std::mem::size_of::<$ty>())
    };
    (@code write($magic:expr, $nr:expr, $ty:ty)) => {
        nix::request_code_write!($magic, $nr, ::std::mem::size_of::<$ty>())
    };
    (@code write_bad($magic:expr, $nr:expr, $ty:ty)) => {
        nix::request_code_write!($magic, $nr, ::std::mem::size_of::<$ty>())
    };
}
pub(crate) use ioctls;

/// Adopts an fd the kernel just returned.
///
/// # Safety
/// `fd` must be a freshly created, open fd that nothing else owns.
pub(crate) unsafe fn adopt(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller guarantees `fd` is open and unowned.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Sizes of uapi structs that no ioctl number encodes, by C name (`struct
/// v4l2_ext_control`): the header-check test compares them with `sizeof`.
pub fn struct_sizes() -> Vec<(&'static str, usize)> {
    videodev2::STRUCT_SIZES.to_vec()
}

/// Every ioctl request code this crate uses, by its uapi name: the
/// header-check test compares them with the C headers' macros.
pub fn request_codes() -> Vec<(&'static str, u64)> {
    [
        dma_buf::REQUEST_CODES,
        sync_file::REQUEST_CODES,
        dma_heap::REQUEST_CODES,
        udmabuf::REQUEST_CODES,
        drm::REQUEST_CODES,
        drm_mode::REQUEST_CODES,
        vgem::REQUEST_CODES,
        dmx::REQUEST_CODES,
        frontend::REQUEST_CODES,
        videodev2::REQUEST_CODES,
    ]
    .concat()
}
