//! Whether an encoder graph uses ONNX Runtime's fused Transformer kernels (`graph::ops::fused`),
//! and why not where it does not. Only forward-only f32 graphs are fused (encode, eval, frozen
//! features, export); training graphs keep the unfused encoder, which has gradients and which is
//! the fused graph's reference. `EMBEDLAB_NO_FUSION=1` turns fusion off for comparisons.

use super::encoder::{Activation, EncoderSpec};
use crate::graph::DType;

/// The environment variable that turns fusion off (any value but empty or `0`).
pub const NO_FUSION_ENV: &str = "EMBEDLAB_NO_FUSION";

/// Whether forward-only graphs may use the fused kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fusion {
    Fused,
    Unfused,
}

impl Fusion {
    /// `Unfused` when `EMBEDLAB_NO_FUSION` is set (not empty, not `0`), else `Fused`.
    pub fn from_env() -> Fusion {
        match std::env::var(NO_FUSION_ENV) {
            Ok(v) if !v.is_empty() && v != "0" => Fusion::Unfused,
            _ => Fusion::Fused,
        }
    }
}

/// What one encoder graph fuses, with a reason for each kernel it does not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FusionPlan {
    /// com.microsoft Attention (projection + scaled dot-product + mask) per layer.
    pub attention: bool,
    /// com.microsoft SkipLayerNormalization for the residual sums.
    pub skip_layer_norm: bool,
    /// com.microsoft BiasGelu after the feed-forward up-projection.
    pub bias_gelu: bool,
    /// Why a kernel is not used, one line each (empty when everything is fused).
    pub fallbacks: Vec<String>,
}

impl FusionPlan {
    /// The unfused encoder, for `reason`.
    fn none(reason: &str) -> FusionPlan {
        FusionPlan {
            attention: false,
            skip_layer_norm: false,
            bias_gelu: false,
            fallbacks: vec![reason.to_string()],
        }
    }

    /// Decides for an encoder of `spec` in a graph of `dtype`, `train` (with gradients) or not.
    pub fn new(spec: &EncoderSpec, dtype: DType, train: bool, fusion: Fusion) -> FusionPlan {
        if train {
            return FusionPlan::none("training graph: the fused kernels have no gradient");
        }
        if fusion == Fusion::Unfused {
            return FusionPlan::none(&format!("fusion turned off ({NO_FUSION_ENV})"));
        }
        if spec.masked_packing {
            return FusionPlan::none(
                "masked packing: the document mask and position ids are inputs the fused kernels do not take",
            );
        }
        if dtype != DType::F32 {
            return FusionPlan::none(&format!(
                "{dtype} graph: ONNX Runtime's fused kernels are float32 only"
            ));
        }
        let mut plan = FusionPlan {
            attention: true,
            skip_layer_norm: true,
            bias_gelu: true,
            fallbacks: Vec::new(),
        };
        if spec.heads == 0 || !spec.d_model.is_multiple_of(spec.heads) {
            plan.attention = false;
            plan.fallbacks.push(format!(
                "attention unfused: d_model {} is not divisible by {} heads",
                spec.d_model, spec.heads
            ));
        }
        match spec.activation {
            Activation::Gelu => {}
            Activation::Relu => {
                plan.bias_gelu = false;
                plan.fallbacks.push(
                    "feed-forward activation relu: no fused bias + relu kernel (BiasGelu is GELU)"
                        .into(),
                );
            }
        }
        plan.fallbacks.push(
            "embeddings unfused: EmbedLayerNormalization is not emitted (the embedding sum and \
             its LayerNorm stay primitive ops)"
                .into(),
        );
        plan
    }

    /// Whether any fused kernel is used.
    pub fn any(&self) -> bool {
        self.attention || self.skip_layer_norm || self.bias_gelu
    }

    /// One line for logs: what is fused, then each fallback.
    pub fn describe(&self) -> String {
        let used: Vec<&str> = [
            (self.attention, "Attention"),
            (self.skip_layer_norm, "SkipLayerNormalization"),
            (self.bias_gelu, "BiasGelu"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        let head = if used.is_empty() {
            "fused kernels: none".to_string()
        } else {
            format!("fused kernels: {}", used.join(", "))
        };
        if self.fallbacks.is_empty() {
            head
        } else {
            format!("{head}; {}", self.fallbacks.join("; "))
        }
    }
}
