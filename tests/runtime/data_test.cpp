// Standardization, seeded shuffling and batch assembly, and the checks that data fits a model.
#include <cstdint>
#include <catch2/catch.hpp>
#include <kiln/data/batches.hpp>
#include <kiln/data/preprocess.hpp>
#include <kiln/error.hpp>
#include <numeric>

using Catch::Contains;

TEST_CASE("standardization uses the training statistics", "[runtime][data]") {
    kiln::Tensor train(4, 2);
    train.values = {1, 5, 2, 5, 3, 5, 4, 5};  // column 1 is constant
    kiln::Preprocessor s = kiln::Preprocessor::fit(train);
    kiln::Tensor copy = train;
    s.apply(copy);
    double mean = 0, square = 0;
    for (int r = 0; r < 4; ++r) {
        mean += copy(r, 0) / 4;
        square += copy(r, 0) * copy(r, 0) / 4;
        CHECK(copy(r, 1) == 0);  // centred, not divided by a zero deviation
    }
    CHECK(mean == Approx(0).margin(1e-6));
    CHECK(square == Approx(1));
}

TEST_CASE("shuffles are permutations, fixed by the seed", "[runtime][data]") {
    auto a = kiln::shuffled_indices(1000, 7), b = kiln::shuffled_indices(1000, 7), c = kiln::shuffled_indices(1000, 8);
    CHECK(a == b);
    CHECK(a != c);
    std::vector<int> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int> identity(1000);
    std::iota(identity.begin(), identity.end(), 0);
    CHECK(sorted == identity);
}

TEST_CASE("batches gather the chosen samples", "[runtime][data]") {
    kiln::Dataset data;
    data.features = kiln::Tensor(3, 2);
    data.features.values = {0, 1, 10, 11, 20, 21};
    data.labels = {0, 1, 2};
    std::vector<int> pick{2, 0};
    kiln::Batch labelled = kiln::make_batch(data, pick, {"y", 1, true, 3});
    CHECK(labelled.features.values == kiln::Floats{20, 21, 0, 1});
    CHECK(labelled.labels == std::vector<int32_t>{2, 0});
    kiln::Batch targets = kiln::make_batch(data, pick, {"t", 1});
    CHECK(targets.targets.values == kiln::Floats{2, 0});

    // A training loop's batch, reused: each gather holds exactly its samples, whatever came before.
    kiln::Batch reused;
    for (const std::vector<int>& indices : {std::vector<int>{2, 0, 1}, std::vector<int>{1}, std::vector<int>{0, 2}}) {
        kiln::gather_batch(data, indices, {"y", 1, true, 3}, reused);
        const kiln::Batch fresh = kiln::make_batch(data, indices, {"y", 1, true, 3});
        CHECK(reused.size() == int(indices.size()));
        CHECK(reused.features.cols == 2);
        CHECK(reused.features.values == fresh.features.values);
        CHECK(reused.labels == fresh.labels);
    }
}

TEST_CASE("large batches are gathered in blocks on the thread pool, every row in its place", "[runtime][data]") {
    kiln::Dataset data;
    data.features = kiln::Tensor(500, 7);
    for (int r = 0; r < 500; ++r)
        for (int c = 0; c < 7; ++c) data.features(r, c) = float(r * 10 + c);
    data.labels.resize(500);
    for (int r = 0; r < 500; ++r) data.labels[std::size_t(r)] = float(r % 3);
    const std::vector<int> order = kiln::shuffled_indices(500, 9);
    kiln::Batch batch;
    for (std::size_t n :
         {std::size_t(32), std::size_t(77), std::size_t(500)}) {  // one block, a partial last block, many
        std::span<const int> indices(order.data(), n);
        kiln::gather_batch(data, indices, {"y", 1, true, 3}, batch);
        REQUIRE(batch.size() == int(n));
        int misplaced = 0;
        for (std::size_t i = 0; i < n; ++i)
            for (int c = 0; c < 7; ++c) misplaced += batch.features(int(i), c) != float(indices[i] * 10 + c);
        CHECK(misplaced == 0);
    }
}

TEST_CASE("tensor storage is aligned like Halide's allocations", "[runtime][data]") {
    // Generated stages compute some outputs in place and read them back with aligned loads.
    auto aligned = [](const kiln::Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.values.data()) % 128 == 0; };
    for (int rows : {1, 3, 130}) {
        kiln::Tensor t(rows, 7);
        CHECK(aligned(t));
        kiln::Tensor copy = t;
        CHECK(aligned(copy));
        t.values.resize(t.values.size() * 5 + 1);
        CHECK(aligned(t));
    }
}

TEST_CASE("data that does not fit the model is refused before training", "[runtime][data]") {
    kiln::ModelDescriptor model;
    model.name = "m";
    model.input = {"x", 2};
    model.supervision = {"y", 1, true, 3};
    model.loss_kind = kiln::LossKind::softmax_cross_entropy;
    kiln::Dataset data;
    data.source = "set.csv";
    data.features = kiln::Tensor(2, 2);
    data.labels = {0, 2};
    REQUIRE_NOTHROW(kiln::check_data_fits(data, model));
    data.labels = {0, 3};
    REQUIRE_THROWS_WITH(kiln::check_data_fits(data, model),
                        Contains("set.csv: sample 1: label 3 is out of range") && Contains("0..2"));
    data.labels = {0, 1};
    data.features.values[1] = NAN;
    REQUIRE_THROWS_WITH(kiln::check_data_fits(data, model), Contains("NaN"));
    data.features = kiln::Tensor(2, 5);
    REQUIRE_THROWS_WITH(kiln::check_data_fits(data, model), Contains("expects 2 features per sample, the data has 5"));
    model.supervision = {"t", 1};
    model.loss_kind = kiln::LossKind::bce_with_logits;
    model.input = {"x", 5};
    data.labels = {0, 2};
    REQUIRE_THROWS_WITH(kiln::check_data_fits(data, model), Contains("label 2 is not a probability"));
}

TEST_CASE("IDX images of another shape than the model's image input are refused", "[runtime][data]") {
    kiln::ModelDescriptor model;
    model.name = "cnn";
    model.input = {"x", 1, false, 0, 14, 56};  // 784 features, as 28×28 images have
    model.supervision = {"y", 1, true, 10};
    model.loss_kind = kiln::LossKind::softmax_cross_entropy;
    kiln::Dataset data;
    data.source = "fashion";
    data.features = kiln::Tensor(1, 784);
    data.labels = {3};
    REQUIRE_NOTHROW(kiln::check_data_fits(data, model));  // no shape of its own (CSV): read as 1×14×56
    data.image_channels = 1;
    data.image_rows = data.image_cols = 28;
    REQUIRE_THROWS_WITH(kiln::check_data_fits(data, model),
                        Contains("fashion: the images are 1×28×28; model 'cnn' input 'x' takes [N×1×14×56]"));
    model.input = {"x", 1, false, 0, 28, 28};
    REQUIRE_NOTHROW(kiln::check_data_fits(data, model));
    model.input = {"x", 784};  // an MLP reads the same images as rows of 784 pixels
    REQUIRE_NOTHROW(kiln::check_data_fits(data, model));
}
