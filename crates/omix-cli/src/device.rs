//! `--device`: the one place a device choice becomes a burn device (issue 13).
//!
//! `cpu` is burn's flex backend, where omix's hand-written kernels run. `gpu` and `auto` look
//! for an adapter through burn's wgpu runtime (Vulkan first, then DX12 and OpenGL; Metal on
//! macOS) in builds with the `gpu` feature, asking it for a device and getting an error back
//! rather than the panic burn raises when a tensor meets a GPU that is not there. `auto` takes a
//! hardware GPU and says which; a software rasterizer (Mesa's lavapipe/llvmpipe) computes on the
//! CPU far slower than the flex backend, so `auto` passes it over, and only `gpu` uses it (the
//! way `scripts/check-gpu.sh` tests the GPU path on a machine without one).

use burn::prelude::Device;

use crate::cli::DeviceChoice;

/// How to get a build that can use a GPU.
#[cfg_attr(feature = "gpu", allow(dead_code))]
pub const GPU_BUILD_HINT: &str = "cargo build --release -p omix-cli --features gpu";

/// The device for `choice`, or a one-line reason why there is none; `note` receives the line
/// saying which device `gpu` and `auto` took.
pub fn choose(choice: DeviceChoice, note: &mut dyn FnMut(&str)) -> Result<Device, String> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::flex()),
        DeviceChoice::Gpu => match find_gpu() {
            Ok(gpu) => {
                let software = if gpu.software { "; a software rasterizer: for testing only" } else { "" };
                note(&format!("omix: device gpu: {}{software}", gpu.description()));
                Ok(gpu.device)
            }
            Err(reason) => Err(format!("--device gpu: {reason}")),
        },
        DeviceChoice::Auto => match find_gpu() {
            Ok(gpu) if !gpu.software => {
                note(&format!("omix: device auto: using the GPU {}", gpu.description()));
                Ok(gpu.device)
            }
            Ok(gpu) => {
                note(&format!(
                    "omix: device auto: using the CPU (the only GPU adapter, {}, is a software rasterizer, slower than omix's CPU path; --device gpu uses it anyway)",
                    gpu.description()
                ));
                Ok(Device::flex())
            }
            Err(reason) => {
                note(&format!("omix: device auto: using the CPU ({reason})"));
                Ok(Device::flex())
            }
        },
    }
}

/// A GPU adapter wgpu brought up.
struct Gpu {
    device: Device,
    /// The adapter's name as its driver gives it.
    name: String,
    /// The graphics API it came up on.
    api: String,
    /// Whether the adapter is a software rasterizer (wgpu's device type `Cpu`).
    software: bool,
}

impl Gpu {
    fn description(&self) -> String {
        format!("{} ({})", self.name, self.api)
    }
}

#[cfg(feature = "gpu")]
fn find_gpu() -> Result<Gpu, String> {
    use burn::tensor::wgpu::wgpu::DeviceType;

    // `init_with_setup` acquires the adapter and registers the runtime, returning acquisition
    // failures as errors; `Device::wgpu` would defer them to a panic at the first tensor.
    match Device::wgpu_options().init_with_setup() {
        Ok((device, setup)) => {
            let info = setup.adapter.get_info();
            Ok(Gpu {
                device,
                name: info.name.trim().to_string(),
                api: format!("{:?}", info.backend),
                software: info.device_type == DeviceType::Cpu,
            })
        }
        Err(error) => Err(format!(
            "no usable GPU adapter (looked for Vulkan, DX12 and OpenGL adapters through wgpu; Metal on macOS): {}; install the GPU's Vulkan driver or use --device cpu",
            one_line(&error.to_string())
        )),
    }
}

#[cfg(not(feature = "gpu"))]
fn find_gpu() -> Result<Gpu, String> {
    Err(format!("this omix was built without the gpu feature: {GPU_BUILD_HINT}"))
}

/// An error message on one line (drivers' messages can span several).
#[cfg_attr(not(feature = "gpu"), allow(dead_code))]
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_the_flex_device_and_says_nothing() {
        let mut notes = Vec::new();
        let device = choose(DeviceChoice::Cpu, &mut |line| notes.push(line.to_string()));
        assert_eq!(device, Ok(Device::flex()));
        assert!(notes.is_empty());
    }

    #[test]
    fn messages_stay_on_one_line() {
        assert_eq!(one_line("no adapter\n  for Vulkan:\tnone"), "no adapter for Vulkan: none");
    }

    #[cfg(not(feature = "gpu"))]
    #[test]
    fn without_the_feature_gpu_is_an_error_and_auto_the_cpu() {
        let mut notes = Vec::new();
        let error = choose(DeviceChoice::Gpu, &mut |line| notes.push(line.to_string()));
        assert_eq!(error, Err(format!("--device gpu: this omix was built without the gpu feature: {GPU_BUILD_HINT}")));
        let device = choose(DeviceChoice::Auto, &mut |line| notes.push(line.to_string()));
        assert_eq!(device, Ok(Device::flex()));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("using the CPU") && notes[0].contains("without the gpu feature"), "{notes:?}");
    }
}
