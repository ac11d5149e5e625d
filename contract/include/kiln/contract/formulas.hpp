// Each scalar formula of the ops, written once and generic over the number type: `double` (the
// DSL's reference semantics, the runtime's predict and ensemble) and `Halide::Expr` (the generated
// kernels; codegen/include/kiln/codegen/expr_math.hpp supplies Math<Halide::Expr>). The
// numerically stable form is the one written: the reference, the kernels and the runtime agree
// because they run the same text.
//
// A formula reaches its primitives through Math<T> (exp, log, …, select, constant). Integer
// literals combine with T directly (Halide casts them to the Expr's type, so a float kernel stays
// float); any other number goes through Math<T>::constant(like, value), in the type of `like`
// (Halide has no double overloads: `0.1 * x` does not compile for an Expr, which is the point).
#pragma once
#include <algorithm>
#include <cmath>
#include <span>

namespace kiln::formula {

template <class T>
struct Math;  // exp, expm1, log, log1p, sqrt, tanh, abs, max(T, double), clamp(T, T, T), select(condition, T, T), constant(like, value)

template <> struct Math<double> {
    static double exp(double x) { return std::exp(x); }
    static double expm1(double x) { return std::expm1(x); }
    static double log(double x) { return std::log(x); }
    static double log1p(double x) { return std::log1p(x); }
    static double sqrt(double x) { return std::sqrt(x); }
    static double tanh(double x) { return std::tanh(x); }
    static double abs(double x) { return std::abs(x); }
    static double max(double x, double y) { return std::max(x, y); }
    static double clamp(double x, double low, double high) { return std::min(std::max(x, low), high); }
    static double select(bool condition, double yes, double no) { return condition ? yes : no; }
    static double constant(double, double value) { return value; }
};

// σ(x) = 1/(1 + e^−x), from e^−|x| so that neither branch overflows.
template <class T> T sigmoid(T x) {
    using M = Math<T>;
    T e = M::exp(-M::abs(x));
    return M::select(x >= 0, 1 / (1 + e), e / (1 + e));
}

// softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|): exact for large |x| of either sign.
template <class T> T softplus(T x) {
    using M = Math<T>;
    return M::max(x, 0.0) + M::log1p(M::exp(-M::abs(x)));
}

// Binary cross-entropy of a logit z against a target t ∈ [0, 1]: −t·log σ(z) − (1−t)·log(1 − σ(z))
// = softplus(z) − z·t.
template <class T> T bce_with_logits(T z, T t) { return softplus(z) - z * t; }

template <class T> T squared_error(T prediction, T target) {
    T d = prediction - target;
    return d * d;
}

// log Σ eᶻ from the row's maximum m and Σ e^(z − m): no overflow for large logits.
template <class T> T log_sum_exp(T max, T sum_of_shifted_exps) { return max + Math<T>::log(sum_of_shifted_exps); }

template <class T> T relu(T x) { return Math<T>::max(x, 0.0); }

// 1 where x > 0, else 0 (relu's derivative).
template <class T> T step(T x) {
    using M = Math<T>;
    return M::select(x > 0, M::constant(x, 1.0), M::constant(x, 0.0));
}

template <class T> T leaky_relu(T x, double alpha) {
    using M = Math<T>;
    return M::select(x > 0, x, M::constant(x, alpha) * x);
}

// ELU: x for x > 0, α·(eˣ − 1) otherwise (expm1: exact near 0 in double; Halide has none).
template <class T> T elu(T x, double alpha) {
    using M = Math<T>;
    return M::select(x > 0, x, M::constant(x, alpha) * M::expm1(x));
}

// 1/√x exactly (not a hardware approximation): normalization divides by it.
template <class T> T rsqrt(T x) { return 1 / Math<T>::sqrt(x); }

// Softmax of a row in place, the maximum subtracted first (doubles: the reference, predict, ensemble).
inline void softmax_in_place(std::span<double> row) {
    if (row.empty()) return;
    const double top = *std::max_element(row.begin(), row.end());
    double total = 0;
    for (double& v : row) total += v = std::exp(v - top);
    for (double& v : row) v /= total;
}

}  // namespace kiln::formula
