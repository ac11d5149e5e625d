// The contract's scalar formulas as float Halide kernels (Math<Halide::Expr>) against the same
// formulas in double (Math<double>): ordinary and extreme arguments, where the numerically stable
// forms matter (softplus of a large negative logit, log1p of a tiny argument), and the kernels stay
// float (a stray double constant would make them float64).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <kiln/codegen/expr_math.hpp>

namespace {
using kiln::formula::Math;

// f at each x, by a JIT-compiled float pipeline.
template <class F> std::vector<float> in_halide(F f, const std::vector<float>& xs) {
    Halide::Buffer<float> in(int(xs.size()));
    for (int i = 0; i < int(xs.size()); ++i) in(i) = xs[i];
    Halide::Var i("i");
    Halide::Func out("out");
    out(i) = f(Halide::Expr(in(i)));
    REQUIRE(out.value().type() == Halide::Float(32));
    Halide::Buffer<float> result = out.realize({int(xs.size())});
    return std::vector<float>(result.begin(), result.end());
}

// Each float result within `relative` of the double formula, or within `absolute` of it near 0.
template <class F>
void check_against_double(F f, const std::vector<float>& xs, double relative, double absolute = 1e-30) {
    const std::vector<float> got = in_halide([&](Halide::Expr x) { return f(x); }, xs);
    for (std::size_t k = 0; k < xs.size(); ++k) {
        const double want = f(double(xs[k]));
        INFO("x = " << xs[k] << ": float kernel " << got[k] << ", double " << want);
        REQUIRE(std::isfinite(got[k]));
        CHECK(std::abs(got[k] - want) <= std::max(absolute, relative * std::abs(want)));
    }
}

const std::vector<float> logits{-1000, -88, -30, -5, -1e-3f, 0, 1e-3f, 5, 30, 88, 1000};
}  // namespace

TEST_CASE("sigmoid: no overflow at either end", "[codegen][formulas]") {
    check_against_double([](auto x) { return kiln::formula::sigmoid(x); }, logits, 1e-6);
}

TEST_CASE("softplus keeps its digits where log(1 + eˣ) would round to 0 or overflow", "[codegen][formulas]") {
    // At x = −30, log(1 + e⁻³⁰) in float is log(1) = 0; the stable form gives 9.4e-14 to float precision.
    check_against_double([](auto x) { return kiln::formula::softplus(x); }, logits, 1e-5);
}

TEST_CASE("binary cross-entropy from logits, both targets", "[codegen][formulas]") {
    for (float t : {0.0f, 1.0f, 0.25f}) {
        INFO("target " << t);
        check_against_double([t](auto z) { return kiln::formula::bce_with_logits(z, z * 0 + t); }, logits, 1e-5, 2e-5);
    }
}

TEST_CASE("ELU, leaky ReLU, ReLU, step, rsqrt", "[codegen][formulas]") {
    const std::vector<float> xs{-20, -1, -1e-4f, 0, 1e-4f, 1, 20};
    check_against_double([](auto x) { return kiln::formula::elu(x, 1.5); }, xs, 1e-6, 2e-7);
    check_against_double([](auto x) { return kiln::formula::leaky_relu(x, 0.01); }, xs, 1e-6);
    check_against_double([](auto x) { return kiln::formula::relu(x); }, xs, 0);
    check_against_double([](auto x) { return kiln::formula::step(x); }, xs, 0);
    check_against_double([](auto x) { return kiln::formula::rsqrt(x); }, {1e-6f, 0.25f, 1, 3, 1e6f}, 1e-6);
}

TEST_CASE("log-sum-exp from a row's maximum: large logits do not overflow", "[codegen][formulas]") {
    check_against_double([](auto m) { return kiln::formula::log_sum_exp(m, m * 0 + 2); }, {-1000, 0, 1000}, 1e-6);
}

TEST_CASE("softmax of a row in place: shift-invariant, sums to one", "[codegen][formulas]") {
    std::vector<double> row{1000, 1001, 1002}, shifted{0, 1, 2};
    kiln::formula::softmax_in_place(row);
    kiln::formula::softmax_in_place(shifted);
    double total = 0;
    for (std::size_t k = 0; k < row.size(); ++k) {
        CHECK(row[k] == Approx(shifted[k]).epsilon(1e-12));
        total += row[k];
    }
    CHECK(total == Approx(1).epsilon(1e-12));
}
