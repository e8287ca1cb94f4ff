//! The SIMD record scanner and the SWAR integer parser against their scalar references
//! (`records::reference`, `parse::integer::reference`) on random CSV and bytes.

mod equivalence;
mod integer;
