//! The ioctl request codes the crate computes with nix's macros are the ones
//! the C headers define: a C program prints each macro, and every entry of
//! `dmabuf::__request_codes()` is compared with it by name. Needs a C
//! compiler and the headers (linux-libc-dev, libdrm-dev, and the kernel's
//! uapi `vgem_drm.h`, which libdrm does not ship), no device.

// Test code: a panic is a failed test with its message, and every size here
// is small, so unwraps and numeric casts are fine.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `vgem_drm.h` can be: libdrm does not install it, the kernel's
/// uapi headers (Debian: linux-headers-*-common) do.
fn find_vgem_header() -> Option<PathBuf> {
    let fixed = ["/usr/include/libdrm/vgem_drm.h", "/usr/include/drm/vgem_drm.h"].map(PathBuf::from);
    let from_kernel_headers = std::fs::read_dir("/usr/src")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path().join("include/uapi/drm/vgem_drm.h"));
    fixed.into_iter().chain(from_kernel_headers).find(|p| p.is_file())
}

fn require_header(path: &str, package: &str) {
    assert!(
        Path::new(path).is_file(),
        "{path} is missing: install the package {package} (apt-get install {package}); this test compares the crate's ioctl numbers with it"
    );
}

#[test]
fn ioctl_request_codes_match_the_c_headers() {
    let _g = common::serial();
    require_header("/usr/include/linux/dma-buf.h", "linux-libc-dev");
    require_header("/usr/include/linux/sync_file.h", "linux-libc-dev");
    require_header("/usr/include/linux/udmabuf.h", "linux-libc-dev");
    require_header("/usr/include/linux/dma-heap.h", "linux-libc-dev");
    require_header("/usr/include/linux/dvb/dmx.h", "linux-libc-dev");
    require_header("/usr/include/linux/dvb/frontend.h", "linux-libc-dev");
    require_header("/usr/include/linux/videodev2.h", "linux-libc-dev");
    require_header("/usr/include/libdrm/drm.h", "libdrm-dev");
    require_header("/usr/include/libdrm/drm_mode.h", "libdrm-dev");
    let vgem = find_vgem_header().expect(
        "vgem_drm.h not found in /usr/include/libdrm, /usr/include/drm or /usr/src/*/include/uapi/drm: \
         libdrm-dev does not ship it; install the kernel's uapi headers (apt-get install linux-headers-amd64, \
         or any linux-headers-*-common package)",
    );

    let codes = dmabuf::__request_codes();
    assert!(codes.len() >= 16, "expected every ioctl of the crate, got {codes:?}");

    let mut c = String::from(
        "#include <stdio.h>\n#include <linux/dma-buf.h>\n#include <linux/sync_file.h>\n\
         #include <linux/udmabuf.h>\n#include <linux/dma-heap.h>\n#include <drm.h>\n#include <drm_mode.h>\n\
         #include <time.h>\n#include <sys/time.h>\n#include <linux/videodev2.h>\n",
    );
    c += "#include <linux/dvb/dmx.h>\n#include <linux/dvb/frontend.h>\n";
    writeln!(c, "#include \"{}\"", vgem.display()).unwrap();
    c += "#define P(x) printf(\"%s %llu\\n\", #x, (unsigned long long)(x))\nint main(void) {\n";
    for (name, _) in &codes {
        writeln!(c, "    P({name});").unwrap();
    }
    // Struct sizes no ioctl number encodes, printed as "sizeof(struct x)".
    let sizes = dmabuf::__struct_sizes();
    for (name, _) in &sizes {
        writeln!(c, "    P(sizeof({name}));").unwrap();
    }
    c += "    return 0;\n}\n";

    // The VM's root is read-only: work under the temp dir (a tmpfs there).
    let dir = std::env::temp_dir().join(format!("dmabuf-headers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    let src = dir.join("codes.c");
    let exe = dir.join("codes");
    std::fs::write(&src, &c).expect("write the C program");
    let cc = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-I/usr/include/libdrm", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("run cc: install a C compiler (apt-get install gcc libc6-dev)");
    assert!(cc.status.success(), "cc failed on\n{c}\n{}", String::from_utf8_lossy(&cc.stderr));
    let run = Command::new(&exe).output().expect("run the compiled program");
    assert!(run.status.success(), "the compiled program failed: {}", String::from_utf8_lossy(&run.stderr));
    std::fs::remove_dir_all(&dir).expect("remove the temp dir");

    let from_c: BTreeMap<String, u64> = String::from_utf8(run.stdout)
        .expect("utf-8 output")
        .lines()
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect("NAME VALUE");
            (name.to_string(), value.parse().expect("a number"))
        })
        .collect();
    assert_eq!(from_c.len(), codes.len() + sizes.len(), "every macro and size printed once");
    let wrong_sizes: Vec<String> = sizes
        .iter()
        .filter(|(name, size)| from_c[&format!("sizeof({name})")] != *size as u64)
        .map(|(name, size)| format!("{name}: crate {size} bytes, header {}", from_c[&format!("sizeof({name})")]))
        .collect();
    assert!(wrong_sizes.is_empty(), "struct sizes differ from the C headers:\n{}", wrong_sizes.join("\n"));
    let wrong: Vec<String> = codes
        .iter()
        .filter(|(name, code)| from_c[*name] != *code)
        .map(|(name, code)| format!("{name}: crate {code:#x}, header {:#x}", from_c[*name]))
        .collect();
    assert!(wrong.is_empty(), "ioctl numbers differ from the C headers:\n{}", wrong.join("\n"));
    // Spot check against the numbers in KERNEL-FACTS (x86-64 and the other generic-_IOC architectures).
    if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        assert_eq!(from_c["DMA_BUF_IOCTL_SYNC"], 0x4008_6200);
        assert_eq!(from_c["DMA_BUF_IOCTL_IMPORT_SYNC_FILE"], 0x4008_6203);
        assert_eq!(from_c["DRM_IOCTL_VGEM_FENCE_ATTACH"], 0xc010_6441);
        assert_eq!(from_c["DMX_REQBUFS"], 0xc008_6f3c);
        assert_eq!(from_c["DMX_DQBUF"], 0xc018_6f40);
    }
}
