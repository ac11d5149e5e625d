// Parameter initializers as the DSL names them (init::he_normal, init::uniform(a, b)): values of
// the contract's Initializer (kiln/contract/initializers.hpp), which the runtime draws from.
#pragma once
#include <kiln/contract/initializers.hpp>

namespace kiln::dsl {

using kiln::Initializer;
using kiln::InitKind;

namespace init {
inline constexpr Initializer zeros{InitKind::zeros};
inline constexpr Initializer xavier_uniform{InitKind::xavier_uniform};
inline constexpr Initializer xavier_normal{InitKind::xavier_normal};
inline constexpr Initializer he_uniform{InitKind::he_uniform};
inline constexpr Initializer he_normal{InitKind::he_normal};
inline constexpr Initializer lecun_uniform{InitKind::lecun_uniform};
inline constexpr Initializer lecun_normal{InitKind::lecun_normal};
// What a network ported from PyTorch starts from: nn.Linear's and nn.Conv2d's weight default.
inline constexpr Initializer torch_default{InitKind::torch_default};
// A (semi-)orthogonal weight scaled by gain (Saxe et al.): WᵀW = gain²·I when rows ≥ columns.
constexpr Initializer orthogonal(double gain = 1.0) { return {InitKind::orthogonal, gain}; }
// Each unit (column) gets exactly `nonzeros` incoming weights drawn from N(0, stddev) (Martens 2010).
constexpr Initializer sparse(int nonzeros, double stddev = 0.01) {
    return {InitKind::sparse, double(nonzeros), stddev};
}
constexpr Initializer constant(double value) { return {InitKind::constant, value}; }
constexpr Initializer uniform(double low, double high) { return {InitKind::uniform, low, high}; }
constexpr Initializer normal(double mean, double stddev) { return {InitKind::normal, mean, stddev}; }
}  // namespace init

}  // namespace kiln::dsl
