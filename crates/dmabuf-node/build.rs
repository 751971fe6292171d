//! Sets up napi-rs's linking for the Node.js addon.

fn main() {
    napi_build::setup();
}
