// A convolution without bias before batch norm (tests/codegen/models/conv_no_bias.hpp): the
// generated stages against the double reference at batch sizes 1, 3 and 130, the norm's data
// adjoint computed inside the filter adjoint's staging (6×7 planes: a GEMM over blocks of images)
// or its register tiles' loop (8×8: sums along planes). An executable of its own, as the other
// conv tests: a model's reference and gradients take most of a test's compile time.
#include "check_stages.hpp"
#include "conv_no_bias.kiln.h"
#include "conv_planes.kiln.h"
#include "models/conv_no_bias.hpp"

TEST_CASE("a convolution without bias before batch norm: stages match the double reference", "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::conv_no_bias();
    for (const kiln::ParamSpec& p : d.params) CHECK(p.name != "c.bias");
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            kiln_test::check_stages(d, conv_no_bias::network, batch, 101 + batch, 4);
        }
    }
}

TEST_CASE("a first layer whose filter adjoint sums along planes: stages match the double reference", "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::conv_planes();
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            kiln_test::check_stages(d, conv_planes::network, batch, 201 + batch, 4);
        }
    }
}
