// Convolutions wide enough for the register-tiled loops (tests/codegen/models/channel_tiles.hpp):
// the generated stages against the double reference at batch sizes 1, 3 and 130, with this
// build's target. (The same network built for every CPU tier is checked variant by variant in
// portable_stages_test.cpp.) An executable of its own: its reference and gradients compile beside
// the other conv tests' instead of after them.
#include "channel_tiles.kiln.h"
#include "check_stages.hpp"
#include "models/channel_tiles.hpp"

TEST_CASE("convolutions wide enough for register tiles along channels: stages match the double reference",
          "[codegen]") {
    for (int batch : {1, 3, 130}) {
        DYNAMIC_SECTION("batch " << batch) {
            kiln_test::check_stages(kiln::models::channel_tiles(), channel_tiles::network, batch, 91 + batch, 4);
        }
    }
}
