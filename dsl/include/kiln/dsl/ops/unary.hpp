// Elementwise functions: neg, exp, log, sigmoid, tanh, relu, leaky_relu, elu, square, sqrt, rsqrt
// (1/√x, for normalization), and step (relu's derivative). Derivatives reuse the node's own value where that is cheaper (σ, tanh, exp).
#pragma once
#include <cmath>
#include <boost/hana/tuple.hpp>

#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

enum class UnaryKind { neg, exp, log, sigmoid, tanh, relu, leaky_relu, elu, square, sqrt, rsqrt, step };
struct UnaryInfo {
    UnaryKind kind;
    double alpha;
};

constexpr std::string_view unary_name(UnaryKind k) {
    switch (k) {
        case UnaryKind::neg: return "−";
        case UnaryKind::exp: return "exp";
        case UnaryKind::log: return "log";
        case UnaryKind::sigmoid: return "σ";
        case UnaryKind::tanh: return "tanh";
        case UnaryKind::relu: return "relu";
        case UnaryKind::leaky_relu: return "leaky_relu";
        case UnaryKind::elu: return "elu";
        case UnaryKind::square: return "square";
        case UnaryKind::sqrt: return "√";
        case UnaryKind::rsqrt: return "rsqrt";
        case UnaryKind::step: return "step";
    }
    return "?";
}

inline double unary_reference(UnaryKind k, double alpha, double v) {
    switch (k) {
        case UnaryKind::neg: return -v;
        case UnaryKind::exp: return std::exp(v);
        case UnaryKind::log: return std::log(v);
        case UnaryKind::sigmoid: return reference::sigmoid(v);
        case UnaryKind::tanh: return std::tanh(v);
        case UnaryKind::relu: return v > 0 ? v : 0;
        case UnaryKind::leaky_relu: return v > 0 ? v : alpha * v;
        case UnaryKind::elu: return v > 0 ? v : alpha * (std::exp(v) - 1);
        case UnaryKind::square: return v * v;
        case UnaryKind::sqrt: return std::sqrt(v);
        case UnaryKind::rsqrt: return 1 / std::sqrt(v);
        case UnaryKind::step: return v > 0 ? 1 : 0;
    }
    return 0;
}

template <UnaryKind K, double Alpha = 0.0>
struct UnaryOp {
    static constexpr UnaryInfo lowering{K, Alpha};
    static constexpr Notation notation{K == UnaryKind::neg ? Precedence::prefix : Precedence::atom};

    static constexpr Shape shape(Shape a) { return a; }
    static std::string format(const Texts& parts) {
        if constexpr (K == UnaryKind::neg) return "−" + parts[0];
        else if constexpr (K == UnaryKind::leaky_relu || K == UnaryKind::elu)
            return call(std::string(unary_name(K)) + "[" + number_text(Alpha) + "]", parts);
        else return call(unary_name(K), parts);
    }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& a) {
        return reference::map_elements(a, [](double v) { return unary_reference(K, Alpha, v); });
    }

    template <class A, class G>
    static constexpr auto vjp(Expr<UnaryOp, A> node, G g) {
        constexpr auto one = constant<1.0>;
        A z{};
        if constexpr (K == UnaryKind::neg) return boost::hana::make_tuple(neg(g));
        else if constexpr (K == UnaryKind::exp) return boost::hana::make_tuple(mul(g, node));
        else if constexpr (K == UnaryKind::log) return boost::hana::make_tuple(div(g, z));
        else if constexpr (K == UnaryKind::sigmoid) return boost::hana::make_tuple(mul(mul(g, node), sub(one, node)));
        else if constexpr (K == UnaryKind::tanh) return boost::hana::make_tuple(mul(g, sub(one, square(node))));
        else if constexpr (K == UnaryKind::relu)  // relu(z) > 0 exactly where z > 0: the saved output is the mask, z need not be kept
            return boost::hana::make_tuple(mul(g, step(node)));
        else if constexpr (K == UnaryKind::leaky_relu) return boost::hana::make_tuple(select_positive(z, g, mul(g, constant<Alpha>)));
        else if constexpr (K == UnaryKind::elu) return boost::hana::make_tuple(select_positive(z, g, mul(g, add(node, constant<Alpha>))));
        else if constexpr (K == UnaryKind::square) return boost::hana::make_tuple(mul(mul(g, z), constant<2.0>));
        else if constexpr (K == UnaryKind::sqrt) return boost::hana::make_tuple(div(mul(g, constant<0.5>), node));
        else if constexpr (K == UnaryKind::rsqrt)  // d(x^-½) = -½ x^-3/2 = -½ rsqrt(x)³
            return boost::hana::make_tuple(mul(mul(g, constant<-0.5>), mul(node, square(node))));
        else return boost::hana::make_tuple(no_gradient);  // step: zero almost everywhere
    }
};

// select_positive(c, a, b) = c > 0 ? a : b, elementwise; a and b broadcast to c's shape.
struct SelectInfo {};
struct SelectPositiveOp {
    static constexpr SelectInfo lowering{};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape c, Shape, Shape) { return c; }
    static std::string format(const Texts& parts) { return "(" + parts[0] + " > 0 ? " + parts[1] + " : " + parts[2] + ")"; }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& c, const reference::Matrix& a,
                                      const reference::Matrix& b) {
        reference::Matrix out(c.rows, c.cols);
        for (int r = 0; r < c.rows; ++r)
            for (int k = 0; k < c.cols; ++k) out(r, k) = c(r, k) > 0 ? a.broadcast_at(r, k) : b.broadcast_at(r, k);
        return out;
    }
    template <class C, class A, class B, class G>
    static constexpr auto vjp(Expr<SelectPositiveOp, C, A, B>, G g) {
        constexpr auto zero = constant<0.0>;
        return boost::hana::make_tuple(no_gradient, reduce_to<A::shape>(select_positive(C{}, g, zero)),
                                       reduce_to<B::shape>(select_positive(C{}, zero, g)));
    }
};

template <Expression C, Expression A, Expression B>
constexpr auto select_positive(C, A, B) {
    static_assert(shapes_broadcast(C::shape, A::shape) && broadcast_shape(C::shape, A::shape) == C::shape &&
                      shapes_broadcast(C::shape, B::shape) && broadcast_shape(C::shape, B::shape) == C::shape,
                  "select_positive: both branches must have the condition's shape or broadcast to it");
    return Expr<SelectPositiveOp, C, A, B>{};
}

template <Expression A> constexpr auto neg(A) { return Expr<UnaryOp<UnaryKind::neg>, A>{}; }
template <Expression A> constexpr auto exp(A) { return Expr<UnaryOp<UnaryKind::exp>, A>{}; }
template <Expression A> constexpr auto log(A) { return Expr<UnaryOp<UnaryKind::log>, A>{}; }
template <Expression A> constexpr auto sigmoid(A) { return Expr<UnaryOp<UnaryKind::sigmoid>, A>{}; }
template <Expression A> constexpr auto tanh(A) { return Expr<UnaryOp<UnaryKind::tanh>, A>{}; }
template <Expression A> constexpr auto relu(A) { return Expr<UnaryOp<UnaryKind::relu>, A>{}; }
template <double Alpha, Expression A> constexpr auto leaky_relu(A) { return Expr<UnaryOp<UnaryKind::leaky_relu, Alpha>, A>{}; }
template <double Alpha, Expression A> constexpr auto elu(A) { return Expr<UnaryOp<UnaryKind::elu, Alpha>, A>{}; }
template <Expression A> constexpr auto square(A) { return Expr<UnaryOp<UnaryKind::square>, A>{}; }
template <Expression A> constexpr auto sqrt(A) { return Expr<UnaryOp<UnaryKind::sqrt>, A>{}; }
template <Expression A> constexpr auto rsqrt(A) { return Expr<UnaryOp<UnaryKind::rsqrt>, A>{}; }
template <Expression A> constexpr auto step(A) { return Expr<UnaryOp<UnaryKind::step>, A>{}; }
template <Expression A> constexpr auto operator-(A a) { return neg(a); }

}  // namespace kiln::dsl
