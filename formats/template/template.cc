#include "formats/template/template.h"

#include <fmt/format.h>

#include "lib/base/timeutil.h"

namespace evt::tmpl {

Result<Template> Template::Parse(std::string_view f) {
  Template t;
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) t.pieces_.push_back(Piece{Op::kLiteral, std::move(lit)});
    lit.clear();
  };
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == '\\' && i + 1 < f.size()) {
      char e = f[++i];
      switch (e) {
        case 'n': lit.push_back('\n'); break;
        case 'r': lit.push_back('\r'); break;
        case 't': lit.push_back('\t'); break;
        case '\\': lit.push_back('\\'); break;
        case '0': lit.push_back('\0'); break;
        default:
          lit.push_back('\\');
          lit.push_back(e);
      }
      continue;
    }
    if (c != '%') {
      lit.push_back(c);
      continue;
    }
    if (i + 1 >= f.size()) return Status::InvalidArgument("template ends with a lone '%' (use %% for a percent sign)");
    char tok = f[++i];
    Op op;
    switch (tok) {
      case 't': op = Op::kTopic; break;
      case 'p': op = Op::kPartition; break;
      case 'o': op = Op::kOffset; break;
      case 'T':
        op = Op::kTimestamp;
        if (i + 1 < f.size() && f[i + 1] == '{') {
          if (f.substr(i + 1, 5) != "{iso}") {
            size_t close = f.find('}', i + 1);
            return Status::InvalidArgument(fmt::format(
                "unknown template token '%T{}' at position {}: use %T (ms since the epoch) or %T{{iso}} (RFC 3339)",
                f.substr(i + 1, close == std::string_view::npos ? std::string_view::npos : close - i), i - 1));
          }
          op = Op::kTimestampIso;
          i += 5;
        }
        break;
      case 'k': op = Op::kKey; break;
      case 'v': op = Op::kValue; break;
      case 'K': op = Op::kKeyLen; break;
      case 'S': op = Op::kValueLen; break;
      case 'h': op = Op::kHeaders; break;
      case '%': lit.push_back('%'); continue;
      default:
        return Status::InvalidArgument(fmt::format(
            "unknown template token '%{}' at position {}: use %t %p %o %T %T{{iso}} %k %v %K %S %h or %%", tok, i - 1));
    }
    flush();
    t.pieces_.push_back(Piece{op, {}});
  }
  flush();
  return t;
}

void Template::Append(const RecordBatch& b, const Record& r, std::string* out) const {
  auto it = std::back_inserter(*out);
  for (const Piece& p : pieces_) {
    switch (p.op) {
      case Op::kLiteral: out->append(p.text); break;
      case Op::kTopic: out->append(b.topic); break;
      case Op::kPartition: fmt::format_to(it, "{}", r.partition >= 0 ? r.partition : b.partition); break;
      case Op::kOffset: fmt::format_to(it, "{}", r.offset); break;
      case Op::kTimestamp: fmt::format_to(it, "{}", r.timestamp); break;
      case Op::kTimestampIso: {
        if (r.timestamp < 0) {  // no timestamp (-1): as evt inspect shows it
          out->push_back('-');
          break;
        }
        char buf[kRfc3339MsMaxLen];
        out->append(buf, FormatRfc3339MsTo(r.timestamp, buf));
        break;
      }
      case Op::kKey: out->append(r.key.view()); break;
      case Op::kValue: out->append(r.value.view()); break;
      case Op::kKeyLen: fmt::format_to(it, "{}", r.key.null() ? -1 : static_cast<int64_t>(r.key.size)); break;
      case Op::kValueLen: fmt::format_to(it, "{}", r.value.null() ? -1 : static_cast<int64_t>(r.value.size)); break;
      case Op::kHeaders: {
        const Header* h = b.HeadersOf(r);
        for (uint32_t i = 0; i < r.header_count; ++i) {
          if (i) out->push_back(',');
          out->append(h[i].key);
          out->push_back('=');
          if (h[i].value.null()) out->append("NULL");  // as kcat prints a null header value
          else out->append(h[i].value.view());
        }
        break;
      }
    }
  }
}

}  // namespace evt::tmpl
