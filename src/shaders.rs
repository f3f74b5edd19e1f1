//! Every WGSL kernel family, embedded at compile time (the browser has no file system).
//! Kernels that draw random numbers get `rng.wgsl` prepended; kernels that apply an
//! activation get `activate.wgsl`.

/// A kernel family: one `.wgsl` file with forward and backward entry points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shader {
    Linear,
    Activation,
    Loss,
    Reduce,
    Vae,
    Optim,
    Data,
    Conv,
    Penalty,
}

pub const RNG: &str = include_str!("../shaders/rng.wgsl");
pub const ACTIVATE: &str = include_str!("../shaders/activate.wgsl");

impl Shader {
    pub const ALL: [Shader; 9] = [
        Shader::Linear,
        Shader::Activation,
        Shader::Loss,
        Shader::Reduce,
        Shader::Vae,
        Shader::Optim,
        Shader::Conv,
        Shader::Data,
        Shader::Penalty,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shader::Linear => "linear.wgsl",
            Shader::Activation => "activation.wgsl",
            Shader::Loss => "loss.wgsl",
            Shader::Reduce => "reduce.wgsl",
            Shader::Vae => "vae.wgsl",
            Shader::Optim => "optim.wgsl",
            Shader::Data => "data.wgsl",
            Shader::Conv => "conv.wgsl",
            Shader::Penalty => "penalty.wgsl",
        }
    }

    /// The complete WGSL source.
    pub fn source(self) -> &'static str {
        match self {
            Shader::Linear => concat!(
                include_str!("../shaders/activate.wgsl"),
                include_str!("../shaders/linear.wgsl")
            ),
            Shader::Activation => concat!(
                include_str!("../shaders/activate.wgsl"),
                include_str!("../shaders/activation.wgsl")
            ),
            Shader::Loss => include_str!("../shaders/loss.wgsl"),
            Shader::Reduce => include_str!("../shaders/reduce.wgsl"),
            Shader::Vae => {
                concat!(include_str!("../shaders/rng.wgsl"), include_str!("../shaders/vae.wgsl"))
            }
            Shader::Optim => include_str!("../shaders/optim.wgsl"),
            Shader::Conv => include_str!("../shaders/conv.wgsl"),
            Shader::Penalty => include_str!("../shaders/penalty.wgsl"),
            Shader::Data => {
                concat!(include_str!("../shaders/rng.wgsl"), include_str!("../shaders/data.wgsl"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(name: &str, source: &str) -> naga::Module {
        let module = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{name} does not parse:\n{}", e.emit_to_string(source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name} does not validate: {e:?}"));
        module
    }

    #[test]
    fn every_shader_parses_and_validates() {
        for shader in Shader::ALL {
            validate(shader.name(), shader.source());
        }
    }

    #[test]
    fn the_prepended_snippets_validate_on_their_own() {
        validate("rng.wgsl", RNG);
        validate("activate.wgsl", ACTIVATE);
    }

    #[test]
    fn workgroup_memory_fits_the_webgpu_default_limit() {
        for shader in Shader::ALL {
            let module = validate(shader.name(), shader.source());
            let bytes: u32 = module
                .global_variables
                .iter()
                .filter(|(_, v)| v.space == naga::AddressSpace::WorkGroup)
                .map(|(_, v)| module.types[v.ty].inner.size(module.to_ctx()))
                .sum();
            assert!(bytes <= 16 * 1024, "{} uses {bytes} bytes of workgroup memory", shader.name());
        }
    }
}
