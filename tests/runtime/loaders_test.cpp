// IDX and CSV loaders against good files and every kind of bad one: each error names the file
// and what was expected.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <kiln/data/csv.hpp>
#include <kiln/data/dataset.hpp>
#include <kiln/data/idx.hpp>
#include <kiln/error.hpp>

#include "temp_dir.hpp"

using Catch::Contains;
using kiln::test::TempDir;
using kiln::test::write_gzip;
using kiln::test::write_text;

namespace {
std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

std::string idx_images(uint32_t count, uint32_t rows, uint32_t cols, std::size_t drop = 0) {
    std::string bytes = be32(0x803) + be32(count) + be32(rows) + be32(cols);
    for (uint32_t i = 0; i < count * rows * cols; ++i) bytes.push_back(char(i % 256));
    return bytes.substr(0, bytes.size() - drop);
}
std::string idx_labels(std::vector<uint8_t> labels) {
    std::string bytes = be32(0x801) + be32(uint32_t(labels.size()));
    for (uint8_t l : labels) bytes.push_back(char(l));
    return bytes;
}
}  // namespace

TEST_CASE("IDX: gzip and plain files load with pixels scaled to [0, 1]", "[runtime][data][idx]") {
    TempDir dir;
    write_gzip(dir.file("images.gz"), idx_images(3, 2, 2));
    write_text(dir.file("labels"), idx_labels({0, 9, 4}));
    kiln::Dataset data = kiln::load_idx(dir.file("images.gz"), dir.file("labels"));
    REQUIRE(data.size() == 3);
    REQUIRE(data.features.cols == 4);
    CHECK(data.features(2, 3) == Approx(11 / 255.0));
    CHECK(data.labels == std::vector<float>{0, 9, 4});
}

TEST_CASE("IDX: bad files are rejected with the file named", "[runtime][data][idx]") {
    TempDir dir;
    write_text(dir.file("labels"), idx_labels({1, 2, 3}));
    SECTION("missing") {
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("nope.gz"), dir.file("labels")),
                            Contains("nope.gz: file not found"));
    }
    SECTION("wrong magic") {
        write_text(dir.file("images"), idx_labels({1, 2, 3}));
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("images"), dir.file("labels")),
                            Contains("images: not an IDX file"));
    }
    SECTION("truncated pixel data") {
        write_gzip(dir.file("images.gz"), idx_images(3, 2, 2, 5));
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("images.gz"), dir.file("labels")),
                            Contains("images.gz: truncated") && Contains("expected 12 data bytes, found 7"));
    }
    SECTION("truncated gzip stream") {
        write_gzip(dir.file("images.gz"), idx_images(50, 28, 28));
        std::filesystem::resize_file(dir.file("images.gz"), std::filesystem::file_size(dir.file("images.gz")) / 2);
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("images.gz"), dir.file("labels")), Contains("images.gz"));
    }
    SECTION("corrupt gzip") {
        std::string bytes = "\x1f\x8b\x08\x00garbage-that-is-not-deflate-data";
        write_text(dir.file("images.gz"), bytes);
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("images.gz"), dir.file("labels")), Contains("images.gz"));
    }
    SECTION("image and label counts differ") {
        write_text(dir.file("images"), idx_images(2, 2, 2));
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("images"), dir.file("labels")),
                            Contains("2 images") && Contains("3 labels"));
    }
}

TEST_CASE("CSV: header form and headerless form", "[runtime][data][csv]") {
    TempDir dir;
    write_text(dir.file("a.csv"), "3,2,no,yes\n1.5,2,0\n-3,4e-1,1\n0,0,1\n");
    kiln::Dataset a = kiln::load_csv(dir.file("a.csv"));
    CHECK(a.size() == 3);
    CHECK(a.features.cols == 2);
    CHECK(a.features(1, 1) == Approx(0.4));
    CHECK(a.labels == std::vector<float>{0, 1, 1});
    CHECK(a.class_names == std::vector<std::string>{"no", "yes"});

    write_gzip(dir.file("b.csv.gz"), "0,1,2,3\r\n4,5,6,7\r\n");
    kiln::Dataset b = kiln::load_csv(dir.file("b.csv.gz"));
    CHECK(b.size() == 2);
    CHECK(b.features.cols == 3);
    CHECK(b.labels == std::vector<float>{3, 7});
}

TEST_CASE("CSV: bad files are rejected with file, line and field", "[runtime][data][csv]") {
    TempDir dir;
    auto load = [&](const std::string& content) {
        write_text(dir.file("bad.csv"), content);
        return kiln::load_csv(dir.file("bad.csv"));
    };
    REQUIRE_THROWS_WITH(load(""), Contains("bad.csv: empty file"));
    REQUIRE_THROWS_WITH(load("2,2,a,b\n1,2,0\n1,0\n"), Contains("line 3: expected 3 fields") && Contains("found 2"));
    REQUIRE_THROWS_WITH(load("2,2,a,b\n1,x,0\n1,2,0\n"), Contains("line 2, field 2: 'x' is not a number"));
    REQUIRE_THROWS_WITH(load("2,2,a,b\n1,nan,0\n1,2,0\n"), Contains("line 2, field 2: value is NaN or infinite"));
    REQUIRE_THROWS_WITH(load("2,2,a,b\n1,2,5\n1,2,0\n"),
                        Contains("line 2: label 5 is out of range: the header names 2 classes"));
    REQUIRE_THROWS_WITH(load("2,2,a,b\n1,2,0.5\n1,2,0\n"),
                        Contains("line 2: the label (last field) must be a non-negative integer"));
    REQUIRE_THROWS_WITH(load("3,2,a,b\n1,2,0\n1,2,0\n"), Contains("declares 3 samples, the file has 2"));
    REQUIRE_THROWS_WITH(kiln::load_csv(dir.file("absent.csv")), Contains("absent.csv: file not found"));
}

TEST_CASE("load_data: directories of IDX files and CSV splits", "[runtime][data]") {
    TempDir dir;
    for (const char* split : {"train", "t10k"}) {
        write_gzip(dir.file(std::string(split) + "-images-idx3-ubyte.gz"), idx_images(4, 3, 3));
        write_gzip(dir.file(std::string(split) + "-labels-idx1-ubyte.gz"), idx_labels({1, 2, 3, 4}));
    }
    kiln::DataSplit idx = kiln::load_data(dir.path().string());
    CHECK(idx.train.size() == 4);
    CHECK(idx.test.features.cols == 9);

    std::string csv = "10,1,a,b\n";
    for (int i = 0; i < 10; ++i) csv += std::to_string(i) + "," + std::to_string(i % 2) + "\n";
    write_text(dir.file("d.csv"), csv);
    kiln::DataSplit split = kiln::load_data(dir.file("d.csv"));
    CHECK(split.train.size() == 8);
    CHECK(split.test.size() == 2);
    std::vector<float> seen;
    for (const kiln::Dataset* d : {&split.train, &split.test})
        for (int i = 0; i < d->size(); ++i) seen.push_back(d->features(i, 0));
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});  // a partition: nothing lost or repeated

    std::filesystem::remove(dir.file("t10k-labels-idx1-ubyte.gz"));
    REQUIRE_THROWS_WITH(kiln::load_data(dir.path().string()), Contains("missing t10k-labels-idx1-ubyte"));
    REQUIRE_THROWS_WITH(kiln::load_data(dir.file("nothing")), Contains("no such file or directory"));
}

// Issue 14's findings: header counts a cast cannot hold, a header claiming far more features than
// any row has (allocated before it was rejected), and IDX dimensions whose product overflows.
TEST_CASE("loaders: header claims are checked before they size anything", "[runtime][data]") {
    TempDir dir;
    auto csv = [&](const std::string& content) {
        write_text(dir.file("claim.csv"), content);
        return kiln::load_csv(dir.file("claim.csv"));
    };
    REQUIRE_THROWS_WITH(csv("1e300,2,a,b\n1,2,0\n"), Contains("line 1, field 1") && Contains("sample count"));
    REQUIRE_THROWS_WITH(csv("1,1e300,a,b\n1,2,0\n"), Contains("line 1, field 2") && Contains("feature count"));
    REQUIRE_THROWS_WITH(csv("2,10,a,b\n1,2,0\n1,2,0\n"), Contains("line 2: expected 11 fields") && Contains("found 3"));

    std::string idx = {0, 0, 8, 3};
    for (int d = 0; d < 3; ++d) idx += std::string("\xff\xff\xff\xff", 4);
    idx += std::string(16, '\0');
    write_text(dir.file("huge-images"), idx);
    write_text(dir.file("labels"), std::string{0, 0, 8, 1, 0, 0, 0, 1, 0});
    REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("huge-images"), dir.file("labels")),
                        Contains("huge-images") && Contains("multiply past any file size"));
}

TEST_CASE("gzip: bounded decompression, several members, nothing after the stream", "[runtime][data]") {
    TempDir dir;
    write_text(dir.file("labels"), idx_labels({1, 2, 3}));
    auto gzip_bytes = [&](const std::string& content) {
        write_gzip(dir.file("tmp.gz"), content);
        std::ifstream in(dir.file("tmp.gz"), std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    SECTION("a small file that expands past the bound is refused before it is held") {
        // 128 MiB of pixels in ~128 KiB: beyond max(64 MiB, 32 × the compressed size).
        write_gzip(dir.file("bomb.gz"), idx_images(0, 0, 0) + std::string(std::size_t(128) << 20, '\0'));
        REQUIRE(std::filesystem::file_size(dir.file("bomb.gz")) < (std::size_t(1) << 20));
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("bomb.gz"), dir.file("labels")),
                            Contains("bomb.gz: gzip data expands beyond 67108864 bytes") &&
                                Contains("decompression bomb") && Contains("gunzip"));
    }
    SECTION("members written one after another read as one file, as gzip -d reads them") {
        const std::string images = idx_images(3, 2, 2);
        write_text(dir.file("two.gz"), gzip_bytes(images.substr(0, 7)) + gzip_bytes(images.substr(7)));
        kiln::Dataset data = kiln::load_idx(dir.file("two.gz"), dir.file("labels"));
        CHECK(data.size() == 3);
        CHECK(data.features(2, 3) == Approx(11 / 255.0));
    }
    SECTION("bytes after the last member are refused") {
        write_text(dir.file("trailing.gz"), gzip_bytes(idx_images(3, 2, 2)) + "junk");
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("trailing.gz"), dir.file("labels")),
                            Contains("trailing.gz: 4 bytes of trailing data after the gzip stream"));
    }
    SECTION("zero padding after the last member is ignored, as gzip -d ignores it") {
        write_text(dir.file("padded.gz"), gzip_bytes(idx_images(3, 2, 2)) + std::string(512, '\0'));
        CHECK(kiln::load_idx(dir.file("padded.gz"), dir.file("labels")).size() == 3);
    }
    SECTION("a stream cut short is refused as truncated") {
        const std::string whole = gzip_bytes(idx_images(3, 2, 2));
        write_text(dir.file("cut.gz"), whole.substr(0, whole.size() - 9));
        REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("cut.gz"), dir.file("labels")),
                            Contains("cut.gz: truncated gzip stream"));
    }
}

TEST_CASE("IDX: no images of an impossible size", "[runtime][data][idx]") {
    TempDir dir;
    // 0 images of 65536 × 65536 pixels: no data bytes to check, but no image can have 2^32 pixels.
    write_text(dir.file("images"), be32(0x803) + be32(0) + be32(65536) + be32(65536));
    write_text(dir.file("labels"), idx_labels({}));
    REQUIRE_THROWS_WITH(kiln::load_idx(dir.file("images"), dir.file("labels")),
                        Contains("images: 65536×65536 images exceed"));
}

TEST_CASE("CSV: messages give the file's own line numbers; values beyond float are refused", "[runtime][data][csv]") {
    TempDir dir;
    auto csv = [&](const std::string& content) {
        write_text(dir.file("d.csv"), content);
        return kiln::load_csv(dir.file("d.csv"));
    };
    REQUIRE_THROWS_WITH(csv("1,2,0\n\n\n1,x,0\n"), Contains("d.csv: line 4, field 2: 'x' is not a number"));
    REQUIRE_THROWS_WITH(csv("1,2,0\n\n1,2\n"), Contains("d.csv: line 3: expected 3 fields"));
    REQUIRE_THROWS_WITH(csv("1,2,0\n1,1e39,0\n"), Contains("d.csv: line 2, field 2: 1e39 is beyond float's range"));
    kiln::Dataset data = csv("\n1,2,0\n\n3,4,1\n");
    CHECK(data.size() == 2);
    CHECK(data.features(1, 0) == 3);
    CHECK(data.labels == std::vector<float>{0, 1});
}
