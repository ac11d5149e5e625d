// Elementwise functions of one operand, one row each (namespace unary): how it prints, its formula
// (kiln/contract/formulas.hpp, generic over double and Halide::Expr: the reference evaluates it in
// double and codegen lowers it to Halide, neither with code of its own for the row) and its
// derivative rule as DSL expressions. Derivatives read the node's own value y where y determines
// them (σ, tanh, exp, relu, sqrt, rsqrt), so the saved set holds outputs rather than pre-activations.
//
// A new elementwise function is one row here and its constructor at the bottom (declared in fwd.hpp
// too only when another op's derivative uses it); its formula goes to formulas.hpp when it is more
// than a line.
#pragma once
#include <string_view>
#include <boost/hana/tuple.hpp>
#include <kiln/contract/formulas.hpp>

#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/leaves.hpp"
#include "kiln/dsl/notation.hpp"

namespace kiln::dsl {

namespace unary {
using formula::Math;
// A row: `name` as printed; `func_name`, the lowered Func's name (schedule plans key stored Funcs
// by it: keep it stable); `value(x, α)`; `vjp<α>(y, x, g)`, the adjoint reaching x when y = f(x)
// receives g. `prefix` rows print as −x, `parameterized` ones as name[α](x).
struct Row {
    static constexpr bool prefix = false, parameterized = false;
    static constexpr std::string_view func_name = "unary";
};
inline constexpr auto one = constant<1.0>;

struct Neg : Row {
    static constexpr std::string_view name = "−";
    static constexpr bool prefix = true;
    template <class T> static T value(T x, double) { return -x; }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y, X, G g) { return neg(g); }
};
struct Exp : Row {
    static constexpr std::string_view name = "exp";
    template <class T> static T value(T x, double) { return Math<T>::exp(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y y, X, G g) { return mul(g, y); }
};
struct Log : Row {
    static constexpr std::string_view name = "log";
    template <class T> static T value(T x, double) { return Math<T>::log(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y, X x, G g) { return div(g, x); }
};
struct Sigmoid : Row {
    static constexpr std::string_view name = "σ", func_name = "sigmoid";
    template <class T> static T value(T x, double) { return formula::sigmoid(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y y, X, G g) {
        return mul(mul(g, y), sub(one, y));
    }
};
struct Tanh : Row {
    static constexpr std::string_view name = "tanh";
    template <class T> static T value(T x, double) { return Math<T>::tanh(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y y, X, G g) {
        return mul(g, sub(one, square(y)));
    }
};
// relu(z) > 0 exactly where z > 0: the saved output is the mask, z need not be kept.
struct Relu : Row {
    static constexpr std::string_view name = "relu";
    template <class T> static T value(T x, double) { return formula::relu(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y y, X, G g) { return mul(g, step(y)); }
};
struct LeakyRelu : Row {
    static constexpr std::string_view name = "leaky_relu";
    static constexpr bool parameterized = true;
    template <class T> static T value(T x, double alpha) { return formula::leaky_relu(x, alpha); }
    template <double Alpha, class Y, class X, class G> static constexpr auto vjp(Y, X x, G g) {
        return select_positive(x, g, mul(g, constant<Alpha>));
    }
};
struct Elu : Row {
    static constexpr std::string_view name = "elu";
    static constexpr bool parameterized = true;
    template <class T> static T value(T x, double alpha) { return formula::elu(x, alpha); }
    template <double Alpha, class Y, class X, class G> static constexpr auto vjp(Y y, X x, G g) {
        return select_positive(x, g, mul(g, add(y, constant<Alpha>)));  // below 0, elu' = α·eˣ = y + α
    }
};
struct Square : Row {
    static constexpr std::string_view name = "square";
    template <class T> static T value(T x, double) { return x * x; }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y, X x, G g) {
        return mul(mul(g, x), constant<2.0>);
    }
};
struct Sqrt : Row {
    static constexpr std::string_view name = "√";
    template <class T> static T value(T x, double) { return Math<T>::sqrt(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y y, X, G g) {
        return div(mul(g, constant<0.5>), y);
    }
};
// 1/√x, for normalization. d(x^-½) = -½ x^-3/2 = -½ rsqrt(x)³.
struct Rsqrt : Row {
    static constexpr std::string_view name = "rsqrt";
    template <class T> static T value(T x, double) { return formula::rsqrt(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y y, X, G g) {
        return mul(mul(g, constant<-0.5>), mul(y, square(y)));
    }
};
// softplus(x) = log(1 + eˣ), ReLU's smooth twin; its derivative is σ(x).
struct Softplus : Row {
    static constexpr std::string_view name = "softplus";
    template <class T> static T value(T x, double) { return formula::softplus(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y, X x, G g) { return mul(g, sigmoid(x)); }
};
// SiLU (swish, Ramachandran et al. 2017): x·σ(x); derivative σ(x) + y·(1 − σ(x)).
struct Silu : Row {
    static constexpr std::string_view name = "silu";
    template <class T> static T value(T x, double) { return x * formula::sigmoid(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y y, X x, G g) {
        return mul(g, add(sigmoid(x), mul(y, sub(one, sigmoid(x)))));
    }
};
// relu's derivative: zero almost everywhere, so it passes no gradient on.
struct Step : Row {
    static constexpr std::string_view name = "step";
    template <class T> static T value(T x, double) { return formula::step(x); }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y, X, G) { return no_gradient; }
};
// detach(x) = x, passing no gradient on (PyTorch's Tensor.detach): for a value whose derivative
// vanishes where it is read, such as batch norm's shift (dsl/layers.hpp). Not differentiable in
// the finite-difference sense on purpose: its declared derivative is 0, its true one 1.
struct Detach : Row {
    static constexpr std::string_view name = "detach";
    template <class T> static T value(T x, double) { return x; }
    template <double, class Y, class X, class G> static constexpr auto vjp(Y, X, G) { return no_gradient; }
};
}  // namespace unary

template <class Row, double Alpha = 0.0> struct UnaryOp {
    using row = Row;
    static constexpr std::string_view func_name = Row::func_name;
    static constexpr Notation notation{Row::prefix ? Precedence::prefix : Precedence::atom};

    static constexpr Shape shape(Shape a) { return a; }
    static std::string format(const Texts& parts) {
        if constexpr (Row::prefix) return std::string(Row::name) + parts[0];
        else if constexpr (Row::parameterized)
            return call(std::string(Row::name) + "[" + number_text(Alpha) + "]", parts);
        else return call(Row::name, parts);
    }
    template <class T> static T value(T x) { return Row::value(x, Alpha); }
    template <class A, class G> static constexpr auto vjp(Expr<UnaryOp, A> node, G g) {
        return boost::hana::make_tuple(Row::template vjp<Alpha>(node, A{}, g));
    }
};

// select_positive(c, a, b) = c > 0 ? a : b, elementwise; a and b broadcast to c's shape.
struct SelectPositiveOp {
    static constexpr std::string_view func_name = "select";
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape c, Shape, Shape) { return c; }
    static std::string format(const Texts& parts) {
        return "(" + parts[0] + " > 0 ? " + parts[1] + " : " + parts[2] + ")";
    }
    template <class T> static T value(T c, T a, T b) { return formula::Math<T>::select(c > 0, a, b); }
    template <class C, class A, class B, class G> static constexpr auto vjp(Expr<SelectPositiveOp, C, A, B>, G g) {
        constexpr auto zero = constant<0.0>;
        return boost::hana::make_tuple(no_gradient, reduce_to<A::shape>(select_positive(C{}, g, zero)),
                                       reduce_to<B::shape>(select_positive(C{}, zero, g)));
    }
};

template <Expression C, Expression A, Expression B> constexpr auto select_positive(C, A, B) {
    static_assert(shapes_broadcast(C::shape, A::shape) && broadcast_shape(C::shape, A::shape) == C::shape &&
                      shapes_broadcast(C::shape, B::shape) && broadcast_shape(C::shape, B::shape) == C::shape,
                  "select_positive: both branches must have the condition's shape or broadcast to it");
    return Expr<SelectPositiveOp, C, A, B>{};
}

template <Expression A> constexpr auto neg(A) { return Expr<UnaryOp<unary::Neg>, A>{}; }
template <Expression A> constexpr auto exp(A) { return Expr<UnaryOp<unary::Exp>, A>{}; }
template <Expression A> constexpr auto log(A) { return Expr<UnaryOp<unary::Log>, A>{}; }
template <Expression A> constexpr auto sigmoid(A) { return Expr<UnaryOp<unary::Sigmoid>, A>{}; }
template <Expression A> constexpr auto tanh(A) { return Expr<UnaryOp<unary::Tanh>, A>{}; }
template <Expression A> constexpr auto relu(A) { return Expr<UnaryOp<unary::Relu>, A>{}; }
template <Expression A> constexpr auto square(A) { return Expr<UnaryOp<unary::Square>, A>{}; }
template <Expression A> constexpr auto sqrt(A) { return Expr<UnaryOp<unary::Sqrt>, A>{}; }
template <Expression A> constexpr auto rsqrt(A) { return Expr<UnaryOp<unary::Rsqrt>, A>{}; }
template <Expression A> constexpr auto softplus(A) { return Expr<UnaryOp<unary::Softplus>, A>{}; }
template <Expression A> constexpr auto silu(A) { return Expr<UnaryOp<unary::Silu>, A>{}; }
template <Expression A> constexpr auto step(A) { return Expr<UnaryOp<unary::Step>, A>{}; }
template <Expression A> constexpr auto detach(A) { return Expr<UnaryOp<unary::Detach>, A>{}; }
template <double Alpha, Expression A> constexpr auto leaky_relu(A) {
    return Expr<UnaryOp<unary::LeakyRelu, Alpha>, A>{};
}
template <double Alpha, Expression A> constexpr auto elu(A) { return Expr<UnaryOp<unary::Elu, Alpha>, A>{}; }
template <Expression A> constexpr auto operator-(A a) { return neg(a); }

}  // namespace kiln::dsl
