// The optimizers and their generated kernels (optimizers.def): one row per optimizer with its
// kernels, checkpointed state, hyper-parameters and defaults, read by the kernel generator, CMake,
// the runtime's dispatch and state, and the CLI's help (choices, which optimizer reads which flag).
#pragma once
#include <string_view>

namespace kiln {

enum class OptimizerKernel {
#define KILN_OPTIMIZER_KERNEL(kernel, computes) kernel,
#define KILN_OPTIMIZER(...)
#define KILN_FUSED_UPDATE(...)
#include "kiln/contract/optimizers.def"
#undef KILN_FUSED_UPDATE
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
#define KILN_FUSED_UPDATE(...)
#include "kiln/contract/optimizers.def"
#undef KILN_FUSED_UPDATE
#undef KILN_OPTIMIZER
#undef KILN_OPTIMIZER_KERNEL
};

enum class OptimizerKind {
#define KILN_OPTIMIZER_KERNEL(...)
#define KILN_FUSED_UPDATE(...)
#define KILN_OPTIMIZER(name, kernels, state, scalars, hyper, epsilon, rho, summary) name,
#include "kiln/contract/optimizers.def"
#undef KILN_FUSED_UPDATE
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
#define KILN_FUSED_UPDATE(...)
#define KILN_OPTIMIZER(name, kernels, state, scalars, hyper, epsilon, rho, summary) \
    {OptimizerKind::name, #name, kernels, state, scalars, hyper, epsilon, rho, summary},
#include "kiln/contract/optimizers.def"
#undef KILN_FUSED_UPDATE
#undef KILN_OPTIMIZER
#undef KILN_OPTIMIZER_KERNEL
};

constexpr const OptimizerRow& optimizer_row(OptimizerKind kind) { return optimizer_table[int(kind)]; }

// The optimizers that also run fused into the backward stage (KILN_FUSED_UPDATE rows), with the
// scalars each reads after the four every update reads (fused_common_scalars).
struct FusedUpdateRow {
    OptimizerKind kind;
    std::string_view name;
    std::string_view scalars;  // space-separated, after fused_common_scalars
};

inline constexpr std::string_view fused_common_scalars = "lr weight_decay grad_scale clip";
inline constexpr int fused_common_scalar_count = 4;

inline constexpr FusedUpdateRow fused_update_table[] = {
#define KILN_OPTIMIZER_KERNEL(...)
#define KILN_OPTIMIZER(...)
#define KILN_FUSED_UPDATE(name, scalars) {OptimizerKind::name, #name, scalars},
#include "kiln/contract/optimizers.def"
#undef KILN_FUSED_UPDATE
#undef KILN_OPTIMIZER
#undef KILN_OPTIMIZER_KERNEL
};

// The fused row of an optimizer, or nullptr when its step needs whole tensors (LARS, LAMB).
constexpr const FusedUpdateRow* fused_update_row(OptimizerKind kind) {
    for (const FusedUpdateRow& row : fused_update_table)
        if (row.kind == kind) return &row;
    return nullptr;
}

}  // namespace kiln
