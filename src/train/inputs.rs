//! A batch as a graph's named inputs ([`StepInputs`]): what the trainer feeds besides the
//! parameters, keyed by [`Input`] so that a missing input is an error naming it, never a
//! silent empty slice.

use crate::graph::Tensor;
use crate::model::Input;
use crate::runtime::Feeds;
use anyhow::{Result, bail};

/// One batch: a tensor per batch input of the graph, in the order added.
#[derive(Debug, Clone, Default)]
pub struct StepInputs {
    inputs: Vec<(Input, Tensor)>,
}

impl StepInputs {
    pub fn new() -> StepInputs {
        StepInputs::default()
    }

    /// Sets `input` (replacing a tensor already there, in its place).
    pub fn set(&mut self, input: Input, tensor: Tensor) {
        match self.inputs.iter_mut().find(|(i, _)| *i == input) {
            Some(slot) => slot.1 = tensor,
            None => self.inputs.push((input, tensor)),
        }
    }

    /// The tensor of `input`, if the batch has it.
    pub fn get(&self, input: Input) -> Option<&Tensor> {
        self.inputs
            .iter()
            .find(|(i, _)| *i == input)
            .map(|(_, t)| t)
    }

    /// The batch's i64 labels; an error when it has none.
    pub fn labels(&self) -> Result<&[i64]> {
        match self.get(Input::Labels).map(|t| t.as_i64()) {
            Some(Some(l)) => Ok(l),
            Some(None) => bail!("the batch's labels are not i64"),
            None => bail!("the batch has no labels"),
        }
    }

    /// Removes `input` from the batch.
    pub fn remove(&mut self, input: Input) -> Option<Tensor> {
        let i = self.inputs.iter().position(|(n, _)| *n == input)?;
        Some(self.inputs.remove(i).1)
    }

    /// Every input with its tensor, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = (Input, &Tensor)> {
        self.inputs.iter().map(|(i, t)| (*i, t))
    }

    /// Adds the inputs `keep` accepts to `feeds`, by their graph names.
    pub fn feed_into<'a>(&'a self, feeds: &mut Feeds<'a>, keep: impl Fn(Input) -> bool) {
        for (i, t) in self.iter().filter(|(i, _)| keep(*i)) {
            feeds.tensor(i.name(), t);
        }
    }
}

impl FromIterator<(Input, Tensor)> for StepInputs {
    fn from_iter<I: IntoIterator<Item = (Input, Tensor)>>(iter: I) -> StepInputs {
        let mut s = StepInputs::new();
        for (i, t) in iter {
            s.set(i, t);
        }
        s
    }
}
