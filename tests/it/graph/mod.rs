//! Our graph IR: gradients against finite differences, baking, validity of the exported ONNX.
mod bake;
mod exec;
mod fd;
mod fused;
mod grad_model;
mod grad_ops;
mod masked_packing;
mod onnx_checker;
mod written;
mod xent_grad;
