// The metrics file: a resumed run cuts it back to its checkpoint's epoch (issue 14: after a crash
// between an epoch's record and its checkpoint, the epoch was recorded twice), and two runs that
// share one file are refused instead of interleaving their lines.
#include <catch2/catch.hpp>
#include <fstream>
#include <kiln/error.hpp>
#include <kiln/metrics.hpp>
#include <kiln/metrics_file.hpp>
#include <sstream>

#include "temp_dir.hpp"

using Catch::Contains;
using kiln::test::TempDir;

namespace {
std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}
}  // namespace

TEST_CASE("a resumed run's metrics continue from its checkpoint's epoch", "[runtime][metrics]") {
    TempDir dir;
    const std::string path = dir.file("m.jsonl");
    kiln::test::write_text(path, "{\"epoch\":1}\n{\"epoch\":2}\n{\"epoch\":3}\n{\"epo");  // crashed mid-line
    {
        kiln::MetricsWriter resumed(path, 2);
        resumed.write({{"epoch", 3}, {"train_loss", 0.5}});
    }
    CHECK(read(path) == "{\"epoch\":1}\n{\"epoch\":2}\n{\"epoch\":3,\"train_loss\":0.5}\n");
    {
        kiln::MetricsWriter fresh(path);
        fresh.write({{"epoch", 1}});
    }
    CHECK(read(path) == "{\"epoch\":1}\n");
}

TEST_CASE("two runs writing one metrics file are refused", "[runtime][metrics]") {
    TempDir dir;
    const std::string path = dir.file("shared.jsonl");
    kiln::MetricsWriter first(path);
    first.write({{"epoch", 1}});
    REQUIRE_THROWS_WITH(kiln::MetricsWriter(path), Contains("shared.jsonl is being written by another run"));
    REQUIRE_THROWS_WITH(kiln::MetricsWriter(path, 1), Contains("being written by another run"));
    first.write({{"epoch", 2}});
    CHECK(read(path) == "{\"epoch\":1}\n{\"epoch\":2}\n");  // the refused writer truncated nothing
}

TEST_CASE("the kept prefix: whole records of epochs up to the checkpoint's, nothing after a bad line",
          "[runtime][metrics]") {
    using kiln::metrics_prefix_through;
    const std::string two = "{\"epoch\":1}\n{\"epoch\":2}\n";
    CHECK(metrics_prefix_through(two + "{\"epoch\":3}\n", 2) == two.size());
    CHECK(metrics_prefix_through(two + "not json\n{\"epoch\":2}\n", 5) == two.size());
    CHECK(metrics_prefix_through(two + "{\"epoch\":18446744073709551615}\n", 5) == two.size());  // not -1
    CHECK(metrics_prefix_through(two + "{\"epoch\":2.5}\n", 5) == two.size());
    CHECK(metrics_prefix_through("{\"epoch\":1}", 5) == 0);  // torn: no newline yet
    CHECK(metrics_prefix_through("", 5) == 0);
}
