// The XMP packet of a provenance marker. XMP is where the industry looks for "this is AI
// made": IPTC's DigitalSourceType with the value trainedAlgorithmicMedia (IPTC NewsCodes,
// used by Google, Meta and C2PA-aware tools). It is written by hand because it is fixed text
// plus one escaped string; a reader only needs to find what this writer wrote.
#include <string>
#include <utility>

#include "image/provenance_detail.hpp"

namespace facefuse::image::provenance {
namespace {

constexpr std::string_view kLiOpen = "<rdf:li xml:lang=\"x-default\">";
constexpr std::string_view kLiClose = "</rdf:li>";

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            case '\r':  // a raw CR would be normalised away by an XML parser
                out += "&#13;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// The inverse of escape() (plus &#NN; for what other writers might use for ASCII).
std::string unescape(std::string_view text) {
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'},   {"&lt;", '<'},   {"&gt;", '>'},   {"&quot;", '"'},
        {"&apos;", '\''}, {"&#13;", '\r'}, {"&#10;", '\n'}, {"&#9;", '\t'}};
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        bool replaced = false;
        if (text[i] == '&') {
            for (const auto& [entity, c] : kEntities) {
                if (text.substr(i, entity.size()) == entity) {
                    out += c;
                    i += entity.size();
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out += text[i++];
    }
    return out;
}

}  // namespace

std::string xmp_packet(std::string_view text) {
    // begin="U+FEFF" (as UTF-8) is XMP's byte-order mark; the id is the fixed one the XMP
    // spec gives for every packet.
    std::string xmp =
        "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
        " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
        "  <rdf:Description rdf:about=\"\"\n"
        "    xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\"\n"
        "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
        "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
        "    Iptc4xmpExt:DigitalSourceType=\""
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia\"\n"
        "    xmp:CreatorTool=\"facefuse\">\n"
        "   <dc:description><rdf:Alt>";
    xmp += kLiOpen;
    xmp += escape(text);
    xmp += kLiClose;
    xmp +=
        "</rdf:Alt></dc:description>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        "<?xpacket end=\"r\"?>";
    return xmp;
}

std::optional<std::string> xmp_description(std::string_view xmp) {
    const std::size_t description = xmp.find("<dc:description>");
    if (description == std::string_view::npos) return std::nullopt;
    const std::size_t open = xmp.find(kLiOpen, description);
    if (open == std::string_view::npos) return std::nullopt;
    const std::size_t from = open + kLiOpen.size();
    const std::size_t close = xmp.find(kLiClose, from);
    if (close == std::string_view::npos) return std::nullopt;
    return unescape(xmp.substr(from, close - from));
}

}  // namespace facefuse::image::provenance
