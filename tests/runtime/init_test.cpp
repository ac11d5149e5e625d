// Initializers: the distributions' scales, fixed values, and determinism per seed.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <kiln/error.hpp>
#include <kiln/init.hpp>

namespace {
struct Moments {
    double mean, stddev, min, max;
};
Moments moments(const auto& v) {  // a std::vector or a parameter's values
    double sum = 0, square = 0, low = 1e30, high = -1e30;
    for (float x : v) {
        sum += x;
        square += double(x) * x;
        low = std::min(low, double(x));
        high = std::max(high, double(x));
    }
    const double mean = sum / v.size();
    return {mean, std::sqrt(square / v.size() - mean * mean), low, high};
}
kiln::ParamSpec weight(kiln::InitKind kind, double a = 0, double b = 0) { return {"w", 784, 256, {kind, a, b}, {}}; }
}  // namespace

TEST_CASE("initializers draw with the published scales", "[runtime][init]") {
    struct Case {
        kiln::InitKind kind;
        double stddev;
    };
    const double fan_in = 784, fan_out = 256;
    for (const Case& c : {Case{kiln::InitKind::he_normal, std::sqrt(2 / fan_in)},
                          Case{kiln::InitKind::he_uniform, std::sqrt(6 / fan_in) / std::sqrt(3.0)},
                          Case{kiln::InitKind::lecun_normal, std::sqrt(1 / fan_in)},
                          Case{kiln::InitKind::lecun_uniform, std::sqrt(3 / fan_in) / std::sqrt(3.0)},
                          Case{kiln::InitKind::torch_default, 1 / std::sqrt(fan_in) / std::sqrt(3.0)},
                          Case{kiln::InitKind::xavier_normal, std::sqrt(2 / (fan_in + fan_out))},
                          Case{kiln::InitKind::xavier_uniform, std::sqrt(6 / (fan_in + fan_out)) / std::sqrt(3.0)}}) {
        std::vector<kiln::ParamSpec> specs{weight(c.kind)};
        kiln::Arena params(specs);
        kiln::initialize(params, specs, 1);
        Moments m = moments(params[0]);
        INFO(kiln::init_kind_name(c.kind));
        CHECK(std::abs(m.mean) < 0.05 * c.stddev);
        CHECK(m.stddev == Approx(c.stddev).epsilon(0.02));
        if (kiln::init_kind_name(c.kind).ends_with("uniform")) CHECK(m.max <= c.stddev * std::sqrt(3.0));
    }
}

TEST_CASE("fixed and explicit initializers", "[runtime][init]") {
    std::vector<kiln::ParamSpec> specs{weight(kiln::InitKind::zeros), weight(kiln::InitKind::constant, 0.01),
                                       weight(kiln::InitKind::uniform, 2, 3), weight(kiln::InitKind::normal, 5, 0.5)};
    kiln::Arena params(specs);
    kiln::initialize(params, specs, 3);
    CHECK(moments(params[0]).max == 0);
    CHECK(moments(params[1]).min == Approx(0.01));
    CHECK(moments(params[1]).max == Approx(0.01));
    CHECK(moments(params[2]).min >= 2);
    CHECK(moments(params[2]).max <= 3);
    CHECK(moments(params[3]).mean == Approx(5).epsilon(0.01));
    CHECK(moments(params[3]).stddev == Approx(0.5).epsilon(0.02));
}

TEST_CASE("same seed, same parameters; another seed, others", "[runtime][init]") {
    std::vector<kiln::ParamSpec> specs{weight(kiln::InitKind::he_normal),
                                       {"b", 1, 256, {kiln::InitKind::xavier_uniform}, {}}};
    kiln::Arena a(specs), b(specs), c(specs);
    kiln::initialize(a, specs, 42);
    kiln::initialize(b, specs, 42);
    kiln::initialize(c, specs, 43);
    CHECK(std::equal(a.all().begin(), a.all().end(), b.all().begin()));
    CHECK(!std::equal(a.all().begin(), a.all().end(), c.all().begin()));
}

// A matrix whose rows are a multiple of 2 KiB is stored padded (ParamSpec::row_stride): each row's
// values, then zeros that the generated stages read as a GEMM's padding.
TEST_CASE("a padded parameter's values are drawn as a dense one's, its padding stays zero", "[runtime][init]") {
    const kiln::ParamSpec padded{"w", 40, 1024, {kiln::InitKind::he_normal}, {}};
    CHECK(padded.row_stride() == 1072);  // 67 lines of 64 bytes: odd, two lines of zeros at least
    CHECK(padded.storage_size() == 40u * 1072u);
    CHECK(kiln::ParamSpec{"b", 1, 1024, {}, {}}.row_stride() == 1024);  // a single row: no sets to share
    CHECK(kiln::ParamSpec{"w", 40, 1000, {}, {}}.row_stride() == 1000);
    CHECK(kiln::ParamSpec{"w", 40, 512, {}, {}}.row_stride() == 560);
    kiln::ParamSpec filter{"f", 64, 512, {}, {}};
    filter.height = filter.width = 3;
    CHECK(filter.row_stride() == 512 * 9);  // filters are dense

    std::vector<kiln::ParamSpec> specs{padded};
    kiln::Arena params(specs);
    kiln::initialize(params, specs, 3);
    REQUIRE(params.all().size() == 40u * 1072u);
    for (int r = 0; r < 40; ++r)
        for (int c = 1024; c < 1072; ++c) REQUIRE(params.all()[std::size_t(r) * 1072 + std::size_t(c)] == 0.0f);
    CHECK(params[0].size() == 40u * 1024u);
    CHECK(moments(params[0]).stddev == Approx(std::sqrt(2.0 / 40)).epsilon(0.03));
    // Element k of the values is row k / 1024, column k % 1024 of the storage.
    CHECK(params[0][1024 + 5] == params.all()[1072 + 5]);
    CHECK(params[0].row(39).data() == params.all().data() + 39 * 1072);
    const std::vector<float> values = params[0].dense();
    CHECK(values.size() == 40u * 1024u);
    CHECK(std::equal(values.begin(), values.end(), params[0].begin()));
}

// An optimizer's state is laid out like the arena; checkpoints hold its values alone, so a file
// reads back into an arena of any padding and alignment (and files from before either).
TEST_CASE("a buffer laid out like the arena converts to its values and back", "[runtime][init]") {
    const std::vector<kiln::ParamSpec> specs{{"w", 3, 512, {}, {}}, {"b", 1, 5, {}, {}}, {"v", 2, 7, {}, {}}};
    kiln::Arena arena(specs);
    REQUIRE(arena.value_count() == 3u * 512u + 5u + 14u);
    CHECK(arena.offset(1) == 1696u);  // after w's padded rows (1680 floats), on the next 128 bytes
    CHECK(arena.offset(2) == 1728u);  // b's 5 values, then zeros to the next 128 bytes
    std::vector<float> values(arena.value_count());
    for (std::size_t k = 0; k < values.size(); ++k) values[k] = float(k + 1);
    const std::vector<float> laid = arena.laid_out(values);
    REQUIRE(laid.size() == arena.all().size());
    CHECK(laid[560] == 513.0f);                     // w's second row
    CHECK(laid[512] == 0.0f);                       // w's padding
    CHECK(laid[arena.offset(1) + 4] == 1541.0f);    // b's last value
    CHECK(laid[arena.offset(1) + 5] == 0.0f);       // the gap after it
    CHECK(arena.values_of(laid) == values);
    CHECK_THROWS(arena.laid_out(std::vector<float>(values.size() - 1)));
    CHECK_THROWS(arena.values_of(values));  // not laid out like the arena
}

TEST_CASE("orthogonal: orthonormal columns (or rows) times the gain", "[runtime][init]") {
    for (auto [rows, cols] : {std::pair{64, 16}, std::pair{16, 64}, std::pair{32, 32}}) {
        std::vector<kiln::ParamSpec> specs{{"w", rows, cols, {kiln::InitKind::orthogonal, 2.0}, {}}};
        kiln::Arena params(specs);
        kiln::initialize(params, specs, 5);
        auto w = params[0];
        const bool columns = rows >= cols;
        const int vectors = columns ? cols : rows, length = columns ? rows : cols;
        auto at = [&](int vector, int k) {
            return double(columns ? w[std::size_t(k) * cols + vector] : w[std::size_t(vector) * cols + k]);
        };
        for (int a = 0; a < vectors; ++a)
            for (int b = 0; b < vectors; ++b) {
                double dot = 0;
                for (int k = 0; k < length; ++k) dot += at(a, k) * at(b, k);
                INFO(rows << "×" << cols << " vectors " << a << ", " << b);
                REQUIRE(dot == Approx(a == b ? 4.0 : 0.0).margin(1e-5));
            }
    }
}

TEST_CASE("sparse: exactly k nonzero inputs per unit", "[runtime][init]") {
    std::vector<kiln::ParamSpec> specs{{"w", 50, 20, {kiln::InitKind::sparse, 7, 0.5}, {}}};
    kiln::Arena params(specs);
    kiln::initialize(params, specs, 2);
    std::vector<float> nonzero;
    for (int unit = 0; unit < 20; ++unit) {
        int count = 0;
        for (int input = 0; input < 50; ++input) {
            float v = params[0][std::size_t(input) * 20 + unit];
            if (v != 0) {
                ++count;
                nonzero.push_back(v);
            }
        }
        CHECK(count == 7);
    }
    CHECK(moments(nonzero).stddev == Approx(0.5).epsilon(0.15));
    std::vector<kiln::ParamSpec> too_many{{"w", 5, 3, {kiln::InitKind::sparse, 6, 0.1}, {}}};
    kiln::Arena small(too_many);
    REQUIRE_THROWS_WITH(kiln::initialize(small, too_many, 0), Catch::Contains("'w'") && Catch::Contains("6 nonzeros"));
}
