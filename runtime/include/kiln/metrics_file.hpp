// The metrics files train --metrics writes: one JSON object per epoch per line, each with "epoch".
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// Every record, in order; throws kiln::Error naming the file and line of one that is not a JSON
// object with a finite numeric "epoch", and for a file with no records. Blank lines are skipped.
std::vector<nlohmann::json> parse_metrics_records(std::string_view content, const std::string& name);

// The length of the leading whole records of epochs ≤ `epoch`: what a resumed run keeps (a torn
// last line, or anything from the first line that is not such a record, is cut).
std::size_t metrics_prefix_through(std::string_view content, int epoch);

}  // namespace kiln
