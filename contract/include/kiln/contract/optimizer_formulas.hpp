// The per-element step of each optimizer that reads only its own element (optimizers.def's
// KILN_FUSED_UPDATE rows), written once and generic over the number type like formulas.hpp:
// `Halide::Expr` for the stand-alone update kernels (codegen/kernels/optimizer_kernels.cpp) and
// for the backward stages that update parameters where their gradient tiles are produced
// (backward_<optimizer>), `double` for the tests' reference.
//
// Every step first forms the effective gradient g = clamp(grad_scale·gradient, −clip, clip):
// `grad_scale` carries clipping by global norm (the unfused path's host computes it; the fused
// path runs only without it, so 1), `clip` clipping by value. The SGD family, the adaptive
// methods, Adam and NAdam add the L2 penalty's gradient wd·p to it (coupled decay); AdamW decays
// the parameter itself (decoupled).
#pragma once
#include <array>
#include <stdexcept>

#include "kiln/contract/formulas.hpp"
#include "kiln/contract/optimizers.hpp"

namespace kiln::formula {

// An element's next parameter and next state (the row's state buffers in its order; unused: 0).
template <class T> struct ElementStep {
    T param;
    std::array<T, 2> state{};
};

// `scalars`: lr, weight_decay, grad_scale, clip (fused_common_scalars), then the row's own.
template <class T>
ElementStep<T> element_step(OptimizerKind kind, T p, T gradient, const std::array<T, 2>& s, const T* scalars) {
    using M = Math<T>;
    const T &lr = scalars[0], &weight_decay = scalars[1], &grad_scale = scalars[2], &clip = scalars[3];
    const T* own = scalars + fused_common_scalar_count;
    const T clipped = M::clamp(grad_scale * gradient, -clip, clip);
    const T g = clipped + weight_decay * p;  // with the L2 penalty's gradient
    switch (kind) {
        case OptimizerKind::sgd: return {p - lr * g};
        case OptimizerKind::momentum: {  // PyTorch's form: v ← μv + g; p ← p − lr·v
            const T v = own[0] * s[0] + g;
            return {p - lr * v, {v}};
        }
        case OptimizerKind::nesterov: {  // p ← p − lr·(g + μv)
            const T v = own[0] * s[0] + g;
            return {p - lr * (g + own[0] * v), {v}};
        }
        case OptimizerKind::adagrad: {  // s ← s + g²; p ← p − lr·g/(√s + ε)
            const T sum = s[0] + g * g;
            return {p - lr * g / (M::sqrt(sum) + own[0]), {sum}};
        }
        case OptimizerKind::rmsprop: {  // s ← ρs + (1−ρ)g²; p ← p − lr·g/(√s + ε)
            const T &rho = own[0], &eps = own[1];
            const T average = rho * s[0] + (1 - rho) * g * g;
            return {p - lr * g / (M::sqrt(average) + eps), {average}};
        }
        case OptimizerKind::adadelta: {  // s ← ρs + (1−ρ)g²; Δ = √(u + ε)/√(s + ε)·g; u ← ρu + (1−ρ)Δ²; p ← p − lr·Δ
            const T &rho = own[0], &eps = own[1];
            const T average = rho * s[0] + (1 - rho) * g * g;
            const T delta = M::sqrt(s[1] + eps) / M::sqrt(average + eps) * g;
            return {p - lr * delta, {average, rho * s[1] + (1 - rho) * delta * delta}};
        }
        case OptimizerKind::adam:
        case OptimizerKind::adamw: {
            // m ← β1m + (1−β1)g; v ← β2v + (1−β2)g²; p ← p − lr·(m/c1)/(√(v/c2) + ε), computed as
            // p − (lr/c1)·m/(√v·(1/√c2) + ε) with lr/c1 and 1/√c2 from the host: one division.
            const bool decoupled = kind == OptimizerKind::adamw;
            const T &beta1 = own[0], &beta2 = own[1], &eps = own[2], &step = own[3], &inverse_root_c2 = own[4];
            const T used = decoupled ? clipped : g;
            const T m = beta1 * s[0] + (1 - beta1) * used;
            const T v = beta2 * s[1] + (1 - beta2) * used * used;
            const T decayed = decoupled ? p * (1 - lr * weight_decay) : p;
            return {decayed - step * m / (M::sqrt(v) * inverse_root_c2 + eps), {m, v}};
        }
        case OptimizerKind::nadam: {  // p ← p − lr·(cg·g + cm·m)/(√(v/c2) + ε), μ schedule from the host
            const T &beta1 = own[0], &beta2 = own[1], &eps = own[2], &c2 = own[3], &cg = own[4], &cm = own[5];
            const T m = beta1 * s[0] + (1 - beta1) * g;
            const T v = beta2 * s[1] + (1 - beta2) * g * g;
            return {p - lr * (cg * g + cm * m) / (M::sqrt(v / c2) + eps), {m, v}};
        }
        default: break;
    }
    throw std::logic_error("element_step: this optimizer's step is not per element (optimizers.def)");
}

}  // namespace kiln::formula
