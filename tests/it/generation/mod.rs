//! Generation: the text metrics against sacrebleu and rouge-score, decoding against a
//! transcription of Hugging Face's greedy and beam search.
mod decode;
mod metrics;
