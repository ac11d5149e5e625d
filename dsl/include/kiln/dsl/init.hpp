// Parameter initializers as plain data: the DSL names them, the runtime draws the numbers.
#pragma once
#include <string_view>

namespace kiln::dsl {

enum class InitKind { zeros, constant, uniform, normal, xavier_uniform, xavier_normal, he_uniform, he_normal };

struct Initializer {
    InitKind kind = InitKind::zeros;
    double a = 0;  // constant: value; uniform: low; normal: mean
    double b = 0;  // uniform: high; normal: standard deviation
};

namespace init {
inline constexpr Initializer zeros{InitKind::zeros};
inline constexpr Initializer xavier_uniform{InitKind::xavier_uniform};
inline constexpr Initializer xavier_normal{InitKind::xavier_normal};
inline constexpr Initializer he_uniform{InitKind::he_uniform};
inline constexpr Initializer he_normal{InitKind::he_normal};
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
    }
    return "?";
}

}  // namespace kiln::dsl
