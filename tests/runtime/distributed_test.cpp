// The data-parallel layer outside a job: rank 0 of 1, collectives that leave values as they are,
// and the shares that split a global batch among ranks.
#include <catch2/catch.hpp>
#include <kiln/distributed.hpp>
#include <vector>

using namespace kiln;

TEST_CASE("a process started without a launcher is rank 0 of 1 and its collectives change nothing", "[runtime]") {
    distributed::start();  // no mpirun: nothing to join
    CHECK(distributed::rank() == 0);
    CHECK(distributed::size() == 1);
    CHECK(distributed::root());
    CHECK_FALSE(distributed::active());
    std::vector<float> values{1.5f, -2.0f};
    distributed::sum(values);
    distributed::broadcast(values);
    CHECK(values == std::vector<float>{1.5f, -2.0f});
    std::string bytes = "checkpoint";
    distributed::broadcast(bytes);
    CHECK(bytes == "checkpoint");
    CHECK(distributed::same_on_every_rank(42));
    distributed::finish();
}

TEST_CASE("the ranks' shares of a batch are contiguous, in rank order, cover it, and differ by one at most",
          "[runtime]") {
    for (int ranks : {1, 2, 3, 7})
        for (std::size_t rows : {0, 1, 2, 5, 45, 46, 128}) {
            INFO(rows << " rows over " << ranks << " ranks");
            std::size_t next = 0, smallest = rows, largest = 0;
            for (int r = 0; r < ranks; ++r) {
                const distributed::Share share = distributed::share_of(rows, r, ranks);
                CHECK(share.begin == next);
                next += share.count;
                smallest = std::min(smallest, share.count);
                largest = std::max(largest, share.count);
            }
            CHECK(next == rows);
            CHECK(largest - smallest <= 1);
        }
    // The extra rows go to the first ranks: 45 over 2 is 23 + 22.
    CHECK(distributed::share_of(45, 0, 2).count == 23);
    CHECK(distributed::share_of(45, 1, 2).begin == 23);
}
