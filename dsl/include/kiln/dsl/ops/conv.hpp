// 2-D convolution (a cross-correlation, as PyTorch's conv2d without groups) and its two adjoints,
// three ops closed under differentiation:
//   convolution(x, w)      y[n,o,i,j]  = Σ_{c,a,b} x[n, c, i·s − p + a·d, j·s − p + b·d] · w[o,c,a,b]
//   conv2d_data(g, w)      dx[n,c,h,v] = Σ_{o,a,b} g[n,o,i,j] · w[o,c,a,b] over h = i·s − p + a·d,
//                          v = j·s − p + b·d: x's adjoint, a transposed convolution
//   conv2d_filter(x, g)    dw[o,c,a,b] = Σ_{n,i,j} g[n,o,i,j] · x[n, c, i·s − p + a·d, j·s − p + b·d]:
//                          w's adjoint, a correlation of the input with the output's adjoint
// x is [N×C×H×W], w [O×C×KH×KW] (PyTorch's layout), y [N×O×OH×OW] with PyTorch's floor rule
// OH = ⌊(H + 2p − d·(KH − 1) − 1)/s⌋ + 1; reads outside x are the zero padding. Each op is linear in
// each operand, so each vjp is another of the three: convolution → (conv2d_data(g, w), conv2d_filter(x, g));
// conv2d_data(g, w) → (convolution(h, w), conv2d_filter(h, g)); conv2d_filter(x, g) → (conv2d_data(g, h),
// convolution(x, h)). The layer conv2d<"name", …> (layers.hpp) adds the filter and a per-channel bias.
#pragma once
#include <boost/hana/tuple.hpp>
#include <string>

#include "kiln/dsl/checks.hpp"
#include "kiln/dsl/fwd.hpp"
#include "kiln/dsl/notation.hpp"
#include "kiln/dsl/reference.hpp"

namespace kiln::dsl {

// A convolution's window: kernel size, stride, zero padding and dilation (the same along H and W).
struct ConvGeometry {
    int kernel_h, kernel_w, stride = 1, padding = 0, dilation = 1;

    constexpr bool operator==(const ConvGeometry&) const = default;
    // The output size along an axis of `in` elements (PyTorch's floor rule); < 1: the window does not fit.
    constexpr int output(int in, int kernel) const {
        const int span = in + 2 * padding - dilation * (kernel - 1) - 1;
        return span < 0 ? 0 : span / stride + 1;
    }
    constexpr int output_height(int in) const { return output(in, kernel_h); }
    constexpr int output_width(int in) const { return output(in, kernel_w); }
    std::string text() const {
        std::string t = "[" + std::to_string(kernel_h) + "×" + std::to_string(kernel_w) + " s" + std::to_string(stride) +
                        " p" + std::to_string(padding);
        if (dilation != 1) t += " d" + std::to_string(dilation);
        return t + "]";
    }
};

enum class ConvPart { forward, data, filter };
struct ConvInfo {
    ConvPart part;
    ConvGeometry geometry;
};

namespace reference {
// Calls f(n, o, i, j, c, a, b, h, v) for every term of the sum that lands inside x.
template <class F> void for_each_conv_term(Shape x, Shape y, ConvGeometry k, F f) {
    for (int n = 0; n < y.rows; ++n)
        for (int o = 0; o < y.cols; ++o)
            for (int i = 0; i < y.height; ++i)
                for (int j = 0; j < y.width; ++j)
                    for (int c = 0; c < x.cols; ++c)
                        for (int a = 0; a < k.kernel_h; ++a)
                            for (int b = 0; b < k.kernel_w; ++b) {
                                const int h = i * k.stride - k.padding + a * k.dilation;
                                const int v = j * k.stride - k.padding + b * k.dilation;
                                if (h >= 0 && h < x.height && v >= 0 && v < x.width) f(n, o, i, j, c, a, b, h, v);
                            }
}
}  // namespace reference

template <ConvGeometry K> constexpr Shape conv_output_shape(Shape x, Shape w) {
    return {x.rows, w.rows, K.output_height(x.height), K.output_width(x.width)};
}

template <ConvGeometry K> struct ConvOp {
    static constexpr ConvInfo lowering{ConvPart::forward, K};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape x, Shape w) { return conv_output_shape<K>(x, w); }
    static std::string format(const Texts& parts) { return call("conv2d" + K.text(), parts); }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& x,
                                      const reference::Matrix& w) {
        reference::Matrix y(conv_output_shape<K>(x.shape(), w.shape()), 0.0);
        reference::for_each_conv_term(x.shape(), y.shape(), K, [&](int n, int o, int i, int j, int c, int a, int b,
                                                                   int h, int v) {
            y.at(n, o, i, j) += x.at(n, c, h, v) * w.at(o, c, a, b);
        });
        return y;
    }
    template <class X, class W, class G> static constexpr auto vjp(Expr<ConvOp, X, W>, G g);
};

// x's adjoint: its shape is x's, [N × C × H × W] with H, W given (the floor rule loses them).
template <ConvGeometry K, int Height, int Width> struct ConvDataOp {
    static constexpr ConvInfo lowering{ConvPart::data, K};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape g, Shape w) { return {g.rows, w.cols, Height, Width}; }
    static std::string format(const Texts& parts) { return call("conv2d_data" + K.text(), parts); }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& g,
                                      const reference::Matrix& w) {
        reference::Matrix dx(shape(g.shape(), w.shape()), 0.0);
        reference::for_each_conv_term(dx.shape(), g.shape(), K, [&](int n, int o, int i, int j, int c, int a, int b,
                                                                    int h, int v) {
            dx.at(n, c, h, v) += g.at(n, o, i, j) * w.at(o, c, a, b);
        });
        return dx;
    }
    template <class G, class W, class H2> static constexpr auto vjp(Expr<ConvDataOp, G, W>, H2 h);
};

// w's adjoint: [O × C × KH × KW].
template <ConvGeometry K> struct ConvFilterOp {
    static constexpr ConvInfo lowering{ConvPart::filter, K};
    static constexpr Notation notation{};
    static constexpr Shape shape(Shape x, Shape g) { return {g.cols, x.cols, K.kernel_h, K.kernel_w}; }
    static std::string format(const Texts& parts) { return call("conv2d_filter" + K.text(), parts); }
    static reference::Matrix evaluate(const reference::Context&, const reference::Matrix& x,
                                      const reference::Matrix& g) {
        reference::Matrix dw(shape(x.shape(), g.shape()), 0.0);
        reference::for_each_conv_term(x.shape(), g.shape(), K, [&](int n, int o, int i, int j, int c, int a, int b,
                                                                   int h, int v) {
            dw.at(o, c, a, b) += g.at(n, o, i, j) * x.at(n, c, h, v);
        });
        return dw;
    }
    template <class X, class G, class H2> static constexpr auto vjp(Expr<ConvFilterOp, X, G>, H2 h);
};

// The primitive: x [N×C×H×W] (an image; a matrix [N×C] is a 1×1 image), w [O×C×KH×KW].
template <ConvGeometry K, Expression X, Expression W> constexpr auto convolution(X, W) {
    static_assert(K.kernel_h > 0 && K.kernel_w > 0 && K.stride > 0 && K.padding >= 0 && K.dilation > 0,
                  "conv2d: kernel, stride and dilation must be positive, padding not negative");
    static_assert(check::conv2d_input_channels<W::op::fixed_name, X::shape.cols, W::shape.cols>::ok);
    static_assert(check::conv2d_window_fits<W::op::fixed_name, K.kernel_h, K.kernel_w, X::shape.height,
                                            X::shape.width, K.padding, K.dilation>::ok);
    return Expr<ConvOp<K>, X, W>{};
}
template <ConvGeometry K, int Height, int Width, Expression G, Expression F> constexpr auto conv2d_data(G, F) {
    return Expr<ConvDataOp<K, Height, Width>, G, F>{};
}
template <ConvGeometry K, Expression X, Expression G> constexpr auto conv2d_filter(X, G) {
    return Expr<ConvFilterOp<K>, X, G>{};
}

template <ConvGeometry K>
template <class X, class W, class G>
constexpr auto ConvOp<K>::vjp(Expr<ConvOp, X, W>, G g) {
    return boost::hana::make_tuple(conv2d_data<K, X::shape.height, X::shape.width>(g, W{}), conv2d_filter<K>(X{}, g));
}
template <ConvGeometry K, int Height, int Width>
template <class G, class F, class H2>
constexpr auto ConvDataOp<K, Height, Width>::vjp(Expr<ConvDataOp, G, F>, H2 h) {
    return boost::hana::make_tuple(Expr<ConvOp<K>, H2, F>{}, conv2d_filter<K>(h, G{}));
}
template <ConvGeometry K>
template <class X, class G, class H2>
constexpr auto ConvFilterOp<K>::vjp(Expr<ConvFilterOp, X, G>, H2 h) {
    return boost::hana::make_tuple(conv2d_data<K, X::shape.height, X::shape.width>(G{}, h), Expr<ConvOp<K>, X, H2>{});
}

}  // namespace kiln::dsl
