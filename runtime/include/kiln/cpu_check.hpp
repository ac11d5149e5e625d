// The model binary's start-up check: the CPU has every feature its kernels were generated for
// (the descriptor's Halide target; contract/include/kiln/contract/cpu_targets.hpp).
#pragma once
#include <string>

#include <kiln/contract/model_descriptor.hpp>

namespace kiln {

// Throws kiln::Error naming the features this CPU lacks and the target to rebuild with (for a
// binary with several variants, the features of the last, which Halide falls back to). The
// environment variable KILN_PRETEND_CPU_LACKS (features, comma-separated) makes the check treat
// them as absent: what a binary says on an older CPU, tried on this one.
void require_cpu_features(const ModelDescriptor& model);
// Makes Halide's choice between a multi-target library's variants follow KILN_PRETEND_CPU_LACKS
// too (after require_cpu_features, before the first kernel runs).
void steer_kernel_dispatch();
// "AVX-512 (x86-64-linux-avx-…); this CPU's best tier: AVX-512" — with several variants, each and
// the one this CPU runs — for summary and bench.
std::string kernel_target_text(const ModelDescriptor& model);

}  // namespace kiln
