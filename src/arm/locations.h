// The Azure regions byok knows: real names, display names and geography, as
// `az account list-locations` prints them. Resources in any other location are refused, as Azure
// refuses them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace byok::arm {

struct Location {
  std::string_view name;              // "eastus"
  std::string_view display_name;      // "East US"
  std::string_view regional_display;  // "(US) East US"
  std::string_view geography_group;   // "US"
  std::string_view latitude, longitude;
  std::string_view paired;  // paired region name
};

const std::vector<Location>& Locations();
// Case- and space-insensitive ("East US" == "eastus"). nullptr if unknown.
const Location* FindLocation(std::string_view name);
// "eastus,eastus2,..." for error messages.
std::string LocationNames();

}  // namespace byok::arm
