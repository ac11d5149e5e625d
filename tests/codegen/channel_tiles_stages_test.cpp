// Convolutions wide enough for the register-tiled loops (tests/codegen/models/channel_tiles.hpp):
// the generated stages against the double reference at batch sizes 1, 3 and 130, with this
// build's target. (The same network built for every CPU tier is checked variant by variant in
// portable_stages_test.cpp.) An executable of its own: its reference and gradients compile beside
// the other conv tests' instead of after them.
#include "channel_tiles.kiln.h"
#include "check_stages.hpp"
#include "models/channel_tiles.hpp"

// Bound scale 8: inference runs through sums of 72, 144 and 192 terms with batch norm at its
// initial running statistics (no normalization), so its logits reach the hundreds.
TEST_CASE("convolutions wide enough for register tiles along channels: stages match the double reference",
          "[codegen]") {
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            kiln_test::check_stages(kiln::models::channel_tiles(), channel_tiles::network, batch, 91 + batch, 8);
        }
    }
}

TEST_CASE("a narrow image of whole vectors of channels is saved channels innermost", "[codegen]") {
    const kiln::ModelDescriptor& d = kiln::models::channel_tiles();
    int channels_innermost = 0;
    for (const kiln::SavedSpec& saved : d.saved) {
        INFO(saved.formula << " " << saved.shape().text());
        // The rule (codegen/layout.hpp): only images whose channels fill vectors and whose rows are
        // narrower than one; a saved matrix or per-channel statistic never is.
        if (saved.channels_innermost) {
            CHECK(saved.height > 1);
            CHECK(saved.cols % 16 == 0);
            CHECK(saved.width < 16);
            ++channels_innermost;
        }
    }
    CHECK(channels_innermost >= 1);
}
