//! Looking inside a model for the page's teaching views: the first convolution's learned
//! filters and what they see in one image (its feature maps).

use crate::backend::Executor;
use crate::error::{Error, Result};
use crate::model::conv_layers;
use crate::reference::{activation_forward, conv::conv2d_forward};

/// The first convolution of a convolutional model and its response to one image.
#[derive(Clone, Debug, PartialEq)]
pub struct FirstLayer {
    /// Output channels (one filter and one feature map each).
    pub channels: usize,
    /// Filter side k: `filters` is channels × k × k (one input channel, square filters).
    pub kernel: usize,
    pub filters: Vec<f32>,
    pub bias: Vec<f32>,
    /// Feature map side: `maps` is channels × side × side, after the activation, exactly as
    /// the encoder's next layer receives them.
    pub side: usize,
    pub maps: Vec<f32>,
}

/// The first convolution's filters and its feature maps of `image` (one input row in [0, 1]),
/// from the executor's current weights (only the filters and biases are read back). An error
/// for a model without convolutions or an image of the wrong size.
pub async fn first_conv_layer(ex: &mut Executor, image: &[f32]) -> Result<FirstLayer> {
    let spec = ex.program().spec.clone();
    let d = ex.program().input_size();
    let Some(layer) = conv_layers(&spec, &ex.program().shape).into_iter().next() else {
        return Err(Error::Input(format!(
            "a {} model has no convolutions: filters and feature maps need conv_ae or conv_vae",
            spec.kind.name()
        )));
    };
    if layer.is_1d() {
        return Err(Error::Input(
            "the filters view draws 2-D filters; this model convolves a series".into(),
        ));
    }
    if image.len() != d {
        return Err(Error::Input(format!(
            "feature maps are of one image of {d} values, got {}",
            image.len()
        )));
    }
    let filters = ex.param("encoder.conv.0.weight").await?;
    let bias = ex.param("encoder.conv.0.bias").await?;
    let mut pre = vec![0.0; layer.c_out * layer.out_h * layer.out_w];
    conv2d_forward(image, &filters, &bias, &mut pre, &layer);
    let mut maps = vec![0.0; pre.len()];
    activation_forward(spec.activation, &pre, &mut maps);
    Ok(FirstLayer {
        channels: layer.c_out,
        kernel: layer.kernel[1],
        filters,
        bias,
        side: layer.out_h,
        maps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::MNIST_SHAPE;
    use crate::model::{ModelKind, ModelSpec, Program};
    use crate::reference::linear_forward;

    /// A conv AE with one convolution and no dense hidden layer: its code is one linear layer
    /// of the first layer's feature maps, so the executor's own encoding checks the maps.
    #[test]
    fn feature_maps_are_what_the_encoder_sees() {
        let spec =
            ModelSpec { channels: vec![4], latent: 3, ..ModelSpec::of_kind(ModelKind::ConvAe) };
        let program = Program::build(&spec, &MNIST_SHAPE).unwrap();
        let params = program.initial_params();
        let image: Vec<f32> =
            (0..MNIST_SHAPE.size()).map(|i| ((i * 37) % 101) as f32 / 100.0).collect();
        let mut ex = Executor::cpu(program.clone(), &[0u8; MNIST_SHAPE.size()]);
        ex.set_params(&params).unwrap();
        let layer = pollster::block_on(first_conv_layer(&mut ex, &image)).unwrap();
        assert_eq!((layer.channels, layer.kernel, layer.side), (4, 4, 14));
        assert_eq!(layer.filters.len(), 4 * 16);
        assert_eq!(layer.maps.len(), 4 * 14 * 14);

        let shapes = program.param_shapes();
        let value = |name: &str| &params[shapes.iter().position(|(n, _)| n == name).unwrap()];
        let (w, b) = (value("encoder.0.weight"), value("encoder.0.bias"));
        let mut code = vec![0.0; 3];
        linear_forward(&layer.maps, w, b, &mut code, 1, layer.maps.len(), 3);

        let enc = pollster::block_on(ex.encode(&image)).unwrap();
        for (a, e) in code.iter().zip(&enc.mu) {
            assert!((a - e).abs() < 1e-5, "code from the maps {code:?}, encoder {:?}", enc.mu);
        }
    }

    #[test]
    fn a_dense_model_or_a_wrong_image_is_refused() {
        let executor = |spec: &ModelSpec| {
            Executor::cpu(Program::build(spec, &MNIST_SHAPE).unwrap(), &[0; 784])
        };
        let mut dense = executor(&ModelSpec::default());
        let err = pollster::block_on(first_conv_layer(&mut dense, &[0.0; MNIST_SHAPE.size()]))
            .unwrap_err();
        assert!(err.to_string().contains("no convolutions"), "{err}");
        let mut conv = executor(&ModelSpec::of_kind(ModelKind::ConvAe));
        let err = pollster::block_on(first_conv_layer(&mut conv, &[0.0; 10])).unwrap_err();
        assert!(err.to_string().contains("784"), "{err}");
    }
}
