// The compiled parts of Asio (with SSL) and Beast, built once for byok_http and everything that
// links it (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are PUBLIC
// compile definitions of byok_http, see CMakeLists.txt).

// Boost 1.74 + GCC 12: Asio uses std::exchange without including <utility>.
#include <utility>

// GCC 12 with -fsanitize=address,undefined reports a false -Wmaybe-uninitialized in Beast's
// basic_parser (boost::optional returned by content_length()).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
#pragma GCC diagnostic pop
