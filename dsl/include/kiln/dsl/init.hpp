// Parameter initializers as plain data: the DSL names them, the runtime draws the numbers.
#pragma once
#include <string_view>

namespace kiln::dsl {

enum class InitKind {
    zeros, constant, uniform, normal, xavier_uniform, xavier_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal, sparse
};

struct Initializer {
    InitKind kind = InitKind::zeros;
    double a = 0;  // constant: value; uniform: low; normal: mean
    double b = 0;  // uniform: high; normal, sparse: standard deviation
    // orthogonal: a = gain; sparse: a = nonzero incoming weights per unit
};

namespace init {
inline constexpr Initializer zeros{InitKind::zeros};
inline constexpr Initializer xavier_uniform{InitKind::xavier_uniform};
inline constexpr Initializer xavier_normal{InitKind::xavier_normal};
inline constexpr Initializer he_uniform{InitKind::he_uniform};
inline constexpr Initializer he_normal{InitKind::he_normal};
inline constexpr Initializer lecun_uniform{InitKind::lecun_uniform};
inline constexpr Initializer lecun_normal{InitKind::lecun_normal};
// A (semi-)orthogonal weight scaled by gain (Saxe et al.): WᵀW = gain²·I when rows ≥ columns.
constexpr Initializer orthogonal(double gain = 1.0) { return {InitKind::orthogonal, gain}; }
// Each unit (column) gets exactly `nonzeros` incoming weights drawn from N(0, stddev) (Martens 2010).
constexpr Initializer sparse(int nonzeros, double stddev = 0.01) { return {InitKind::sparse, double(nonzeros), stddev}; }
constexpr Initializer constant(double value) { return {InitKind::constant, value}; }
constexpr Initializer uniform(double low, double high) { return {InitKind::uniform, low, high}; }
constexpr Initializer normal(double mean, double stddev) { return {InitKind::normal, mean, stddev}; }
}  // namespace init

constexpr std::string_view init_kind_name(InitKind kind) {
    switch (kind) {
        case InitKind::zeros: return "zeros";
        case InitKind::constant: return "constant";
        case InitKind::uniform: return "uniform";
        case InitKind::normal: return "normal";
        case InitKind::xavier_uniform: return "xavier_uniform";
        case InitKind::xavier_normal: return "xavier_normal";
        case InitKind::he_uniform: return "he_uniform";
        case InitKind::he_normal: return "he_normal";
        case InitKind::lecun_uniform: return "lecun_uniform";
        case InitKind::lecun_normal: return "lecun_normal";
        case InitKind::orthogonal: return "orthogonal";
        case InitKind::sparse: return "sparse";
    }
    return "?";
}

}  // namespace kiln::dsl
