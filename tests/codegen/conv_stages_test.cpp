// Images and convolutions: the generated stages of the rank-4 test models (tests/codegen/models/
// image.hpp, conv.hpp) against the double reference at batch sizes 1, 3 and 130 — every tail of
// the convolutions' register tiles (channels, rows, vectors along x, blocks of images).
// A test executable of its own: its two networks' reference and gradients take most of the
// stages tests' compile time, which now runs beside the others'.
#include "check_stages.hpp"
#include "conv.kiln.h"
#include "image.kiln.h"
#include "models/conv.hpp"
#include "models/image.hpp"

using namespace kiln_test;

TEST_CASE("rank-4 values (images): stages match the double reference at odd batch sizes", "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::image();
    CHECK(d.input.shape().text() == "[N×2×5×4]");
    for (const kiln::ParamSpec& p : d.params)  // rank-4 parameters keep their rank
        if (p.name == "pixel" || p.name == "mixer") CHECK(p.shape().text() == (p.name == "pixel" ? "[1×1×5×4]" : "[1×2×5×4]"));
    for (const kiln::StateSpec& s : d.states) CHECK(s.shape().text() == "[1×2]");  // per-channel running statistics
    REQUIRE(d.activation_layers.size() == 1);
    CHECK(d.activation_layers[0].shape().text() == "[N×2×5×4]");
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) { check_stages(d, image::network, batch, 71 + batch); }
    }
}


TEST_CASE("convolutions (padding, stride, dilation, bias, per-channel batch norm): stages match the double "
          "reference at odd batch sizes",
          "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::conv();
    for (const kiln::ParamSpec& p : d.params)  // filters keep PyTorch's [out × in × kh × kw]
        if (p.name == "c2.weight") CHECK(p.shape().text() == "[3×4×3×3]");
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) { check_stages(d, conv::network, batch, 81 + batch, 4); }
    }
}

