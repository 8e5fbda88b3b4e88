//! Per-parameter learning-rate multipliers: a separate rate for the encoder than for the head,
//! optionally decaying layer by layer downwards (ELECTRA's layer-wise decay, Clark et al. 2020;
//! ULMFiT's discriminative fine-tuning, Howard & Ruder 2018).

/// The learning rate of a parameter is the schedule's rate times [`LrScales::of`] its name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrScales {
    /// The encoder's share of the schedule's rate (its rate over the head's).
    pub encoder: f64,
    /// Per layer below the top one, one more factor; 1 turns it off.
    pub layer_decay: f64,
    /// Encoder layers (the embeddings sit below layer 0).
    pub depth: usize,
}

impl LrScales {
    /// One rate for every parameter.
    pub const UNIFORM: LrScales = LrScales {
        encoder: 1.0,
        layer_decay: 1.0,
        depth: 0,
    };

    /// Whether every parameter trains at the schedule's rate.
    pub fn is_uniform(&self) -> bool {
        self.encoder == 1.0 && self.layer_decay == 1.0
    }

    /// The multiplier of parameter `name`: 1 for the head (and anything outside the encoder);
    /// `encoder · decay^(depth − l)` for `encoder.layer{l}.*`; `encoder · decay^(depth + 1)` for
    /// `embeddings.*`; `encoder · decay` for other encoder parameters (a final LayerNorm).
    pub fn of(&self, name: &str) -> f64 {
        let power = if name.starts_with("embeddings.") {
            self.depth + 1
        } else if let Some(rest) = name.strip_prefix("encoder.layer") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            match digits.parse::<usize>() {
                Ok(l) => self.depth.saturating_sub(l),
                Err(_) => 1,
            }
        } else if name.starts_with("encoder.") {
            1
        } else {
            return 1.0;
        };
        self.encoder * self.layer_decay.powi(power as i32)
    }
}

impl Default for LrScales {
    fn default() -> Self {
        LrScales::UNIFORM
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_keeps_the_rate_and_layers_decay_downwards() {
        let s = LrScales {
            encoder: 0.1,
            layer_decay: 0.5,
            depth: 2,
        };
        assert_eq!(s.of("head.weight"), 1.0);
        assert_eq!(s.of("encoder.layer1.attn.qkv.weight"), 0.1 * 0.5);
        assert_eq!(s.of("encoder.layer0.ffn.in.bias"), 0.1 * 0.25);
        assert_eq!(s.of("embeddings.word"), 0.1 * 0.125);
        assert_eq!(s.of("encoder.norm.weight"), 0.1 * 0.5);
        let flat = LrScales {
            layer_decay: 1.0,
            ..s
        };
        assert_eq!(flat.of("embeddings.position"), 0.1);
        assert_eq!(flat.of("encoder.layer0.ffn.in.bias"), 0.1);
        assert!(LrScales::UNIFORM.is_uniform());
        assert!(!s.is_uniform());
    }
}
