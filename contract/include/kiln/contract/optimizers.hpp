// The optimizers and their generated kernels (optimizers.def): one row per optimizer with its
// kernels, checkpointed state, hyper-parameters and defaults, read by the kernel generator, CMake,
// the runtime's dispatch and state, and the CLI's help (choices, which optimizer reads which flag).
#pragma once
#include <string_view>

namespace kiln {

enum class OptimizerKernel {
#define KILN_OPTIMIZER_KERNEL(kernel, computes) kernel,
#define KILN_OPTIMIZER(...)
#include "kiln/contract/optimizers.def"
#undef KILN_OPTIMIZER
#undef KILN_OPTIMIZER_KERNEL
};

struct OptimizerKernelRow {
    OptimizerKernel kernel;
    std::string_view name, computes;
};

inline constexpr OptimizerKernelRow optimizer_kernel_table[] = {
#define KILN_OPTIMIZER_KERNEL(kernel, computes) {OptimizerKernel::kernel, #kernel, computes},
#define KILN_OPTIMIZER(...)
#include "kiln/contract/optimizers.def"
#undef KILN_OPTIMIZER
#undef KILN_OPTIMIZER_KERNEL
};

enum class OptimizerKind {
#define KILN_OPTIMIZER_KERNEL(...)
#define KILN_OPTIMIZER(name, kernels, state, scalars, hyper, epsilon, rho, summary) name,
#include "kiln/contract/optimizers.def"
#undef KILN_OPTIMIZER
#undef KILN_OPTIMIZER_KERNEL
};

struct OptimizerRow {
    OptimizerKind kind;
    std::string_view name;
    std::string_view kernels;           // space-separated OptimizerKernel names
    std::string_view state;             // per-element buffers, as checkpointed
    std::string_view scalars;           // host scalars besides the step count `t`, as checkpointed
    std::string_view hyper_parameters;  // the flags it reads
    double default_epsilon, default_rho;
    std::string_view summary;
};

inline constexpr OptimizerRow optimizer_table[] = {
#define KILN_OPTIMIZER_KERNEL(...)
#define KILN_OPTIMIZER(name, kernels, state, scalars, hyper, epsilon, rho, summary) \
    {OptimizerKind::name, #name, kernels, state, scalars, hyper, epsilon, rho, summary},
#include "kiln/contract/optimizers.def"
#undef KILN_OPTIMIZER
#undef KILN_OPTIMIZER_KERNEL
};

constexpr const OptimizerRow& optimizer_row(OptimizerKind kind) { return optimizer_table[int(kind)]; }

}  // namespace kiln
