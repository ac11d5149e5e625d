// Running statistics (batch norm's mean and variance): `running<"bn1.running_mean">(mean<0>(x))`
// is its operand while training (so the gradient flows through the batch statistic), and the
// stored running value at inference. The forward stage also outputs the batch value; the runtime
// folds it into the state after each step: s ← (1 − momentum)·s + momentum·v (v scaled by
// N/(N−1) when `unbiased`, as PyTorch does for the variance). States are checkpointed by name.
#pragma once
#include <boost/hana/tuple.hpp>

#include "kiln/dsl/fixed_string.hpp"
#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

struct RunningInfo {
    double momentum, initial;
    bool unbiased;
};

template <fixed_string Name, double Momentum, double Initial, bool Unbiased> struct RunningOp {
    static_assert(Momentum > 0 && Momentum <= 1, "running: momentum must be in (0, 1]");
    static constexpr RunningInfo lowering{Momentum, Initial, Unbiased};
    static constexpr auto fixed_name = Name;
    static constexpr std::string_view name = Name.view();
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape a) { return a; }
    static std::string format(const Texts& parts) { return call("running[" + std::string(name) + "]", parts); }
    static reference::Matrix evaluate(const reference::Context& c, const reference::Matrix& a) {
        return c.training ? a : c.lookup(name, Shape{a.rows, a.cols});
    }
    template <class A, class G> static constexpr auto vjp(Expr<RunningOp, A>, G g) {
        return boost::hana::make_tuple(g);
    }
};

template <class E> inline constexpr bool is_running = false;
template <fixed_string Name, double M, double I, bool U, class A>
inline constexpr bool is_running<Expr<RunningOp<Name, M, I, U>, A>> = true;

template <fixed_string Name, double Momentum = 0.1, double Initial = 0.0, bool Unbiased = false, Expression A>
constexpr auto running(A) {
    static_assert(!A::shape.batched(),
                  "running: a running statistic must not have one row per sample (reduce over the batch first)");
    return Expr<RunningOp<Name, Momentum, Initial, Unbiased>, A>{};
}

}  // namespace kiln::dsl
