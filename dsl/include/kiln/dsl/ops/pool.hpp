// Pooling over k×k windows with stride s (no padding, PyTorch's floor rule for the output size):
//   max_pool<k, s>(x)   y[n,c,i,j] = max_{a,b} x[n, c, i·s + a, j·s + b]
//   avg_pool<k, s>(x)   y[n,c,i,j] = Σ_{a,b} x[n, c, i·s + a, j·s + b] / k²
// and their adjoints, which send g back through the windows: max_pool_route(x, g) gives each
// window's g to the window's first maximum in row-major order (PyTorch's choice for ties; the
// other tied elements get 0), avg_pool_spread(g) gives every element of a window g/k². Overlapping
// windows (s < k) add their contributions. Routes have no derivative of their own (kiln derives
// first derivatives through them only).
#pragma once
#include <boost/hana/tuple.hpp>
#include <string>

#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/ops/reduce.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

enum class PoolPart { max, average, max_route, average_spread };
struct PoolInfo {
    PoolPart part;
    int kernel, stride;
};

constexpr int pool_output(int in, int kernel, int stride) { return in < kernel ? 0 : (in - kernel) / stride + 1; }

namespace reference {
// The offset (a·k + b) of the first maximum of window (i, j) of x's plane (n, c).
inline int pool_argmax(const Matrix& x, int n, int c, int i, int j, int k, int s) {
    int best = 0;
    for (int t = 1; t < k * k; ++t)
        if (x.at(n, c, i * s + t / k, j * s + t % k) > x.at(n, c, i * s + best / k, j * s + best % k)) best = t;
    return best;
}
}  // namespace reference

inline std::string pool_text(const char* name, int k, int s) {
    return std::string(name) + "[" + std::to_string(k) + "×" + std::to_string(k) + " s" + std::to_string(s) + "]";
}

// The adjoint of a pooling: x (for the route's arg-max; for the spread, only its shape) and g,
// the pooled value's adjoint, back to x's shape.
template <PoolPart Part, int K, int S> struct PoolAdjointOp {
    static constexpr PoolInfo lowering{Part, K, S};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape x, Shape) { return x; }
    static std::string format(const Texts& parts) {
        return call(pool_text(Part == PoolPart::max_route ? "max_pool_route" : "avg_pool_spread", K, S), parts);
    }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& x,
                                      const reference::Matrix& g) {
        reference::Matrix dx(x.shape(), 0.0);
        for (int n = 0; n < g.rows; ++n)
            for (int c = 0; c < g.cols; ++c)
                for (int i = 0; i < g.height; ++i)
                    for (int j = 0; j < g.width; ++j) {
                        if constexpr (Part == PoolPart::max_route) {
                            const int t = reference::pool_argmax(x, n, c, i, j, K, S);
                            dx.at(n, c, i * S + t / K, j * S + t % K) += g.at(n, c, i, j);
                        } else {
                            for (int t = 0; t < K * K; ++t)
                                dx.at(n, c, i * S + t / K, j * S + t % K) += g.at(n, c, i, j) / (K * K);
                        }
                    }
        return dx;
    }
    template <class X, class G, class H> static constexpr auto vjp(Expr<PoolAdjointOp, X, G>, H) {
        static_assert(sizeof(H) == 0, "pooling: second derivatives (the gradient of a gradient) are not supported");
        return boost::hana::make_tuple(no_gradient, no_gradient);
    }
};

template <PoolPart Part, int K, int S> struct PoolOp {
    static constexpr PoolInfo lowering{Part, K, S};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape x) {
        return {x.rows, x.cols, pool_output(x.height, K, S), pool_output(x.width, K, S)};
    }
    static std::string format(const Texts& parts) {
        return call(pool_text(Part == PoolPart::max ? "max_pool" : "avg_pool", K, S), parts);
    }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& x) {
        reference::Matrix y(shape(x.shape()), 0.0);
        for (int n = 0; n < y.rows; ++n)
            for (int c = 0; c < y.cols; ++c)
                for (int i = 0; i < y.height; ++i)
                    for (int j = 0; j < y.width; ++j) {
                        if constexpr (Part == PoolPart::max) {
                            const int t = reference::pool_argmax(x, n, c, i, j, K, S);
                            y.at(n, c, i, j) = x.at(n, c, i * S + t / K, j * S + t % K);
                        } else {
                            double total = 0;
                            for (int t = 0; t < K * K; ++t) total += x.at(n, c, i * S + t / K, j * S + t % K);
                            y.at(n, c, i, j) = total / (K * K);
                        }
                    }
        return y;
    }
    template <class X, class G> static constexpr auto vjp(Expr<PoolOp, X>, G) {
        constexpr PoolPart adjoint = Part == PoolPart::max ? PoolPart::max_route : PoolPart::average_spread;
        return boost::hana::make_tuple(Expr<PoolAdjointOp<adjoint, K, S>, X, G>{});
    }
};

namespace check {
// The note shows the window and the input: pool_window_fits<3, 2, 2> — a 3×3 window, a 2×2 input.
template <int Window, int Height, int Width> struct pool_window_fits {
    static_assert(Height >= Window && Width >= Window, "pooling: the window does not fit the input's height × width");
    static constexpr bool ok = true;
};
}  // namespace check

namespace detail {
template <PoolPart Part, int K, int S, Expression X> constexpr auto pool(X) {
    static_assert(K > 0 && S > 0, "pooling: the window and the stride must be positive");
    static_assert(X::shape.batched(), "pooling: expects a batched image [N × C × H × W]");
    static_assert(check::pool_window_fits<K, X::shape.height, X::shape.width>::ok);
    return Expr<PoolOp<Part, K, S>, X>{};
}
}  // namespace detail

// max_pool<2>(x): 2×2 windows, stride 2 (PyTorch's default stride is the window).
template <int K, int S = K, Expression X> constexpr auto max_pool(X x) { return detail::pool<PoolPart::max, K, S>(x); }
template <int K, int S = K, Expression X> constexpr auto avg_pool(X x) {
    return detail::pool<PoolPart::average, K, S>(x);
}
// The mean of each channel over H and W: [N×C×H×W] → [N×C] (the matrix view), as before a classifier head.
template <Expression X> constexpr auto global_avg_pool(X x) { return mean_over<2>(mean_over<3>(x)); }

}  // namespace kiln::dsl
