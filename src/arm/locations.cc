#include "arm/locations.h"

namespace byok::arm {

const std::vector<Location>& Locations() {
  static const std::vector<Location> kLocations = {
      {"eastus", "East US", "(US) East US", "US", "37.3719", "-79.8164", "westus"},
      {"eastus2", "East US 2", "(US) East US 2", "US", "36.6681", "-78.3889", "centralus"},
      {"southcentralus", "South Central US", "(US) South Central US", "US", "29.4167", "-98.5",
       "northcentralus"},
      {"westus2", "West US 2", "(US) West US 2", "US", "47.233", "-119.852", "westcentralus"},
      {"westus3", "West US 3", "(US) West US 3", "US", "33.448376", "-112.074036", "eastus"},
      {"australiaeast", "Australia East", "(Asia Pacific) Australia East", "Asia Pacific", "-33.86",
       "151.2094", "australiasoutheast"},
      {"southeastasia", "Southeast Asia", "(Asia Pacific) Southeast Asia", "Asia Pacific", "1.283",
       "103.833", "eastasia"},
      {"northeurope", "North Europe", "(Europe) North Europe", "Europe", "53.3478", "-6.2597",
       "westeurope"},
      {"swedencentral", "Sweden Central", "(Europe) Sweden Central", "Europe", "60.67488",
       "17.14127", "swedensouth"},
      {"uksouth", "UK South", "(Europe) UK South", "Europe", "50.941", "-0.799", "ukwest"},
      {"westeurope", "West Europe", "(Europe) West Europe", "Europe", "52.3667", "4.9",
       "northeurope"},
      {"centralus", "Central US", "(US) Central US", "US", "41.5908", "-93.6208", "eastus2"},
      {"southafricanorth", "South Africa North", "(Africa) South Africa North", "Africa",
       "-25.73134", "28.21837", "southafricawest"},
      {"centralindia", "Central India", "(Asia Pacific) Central India", "Asia Pacific", "18.5822",
       "73.9197", "southindia"},
      {"eastasia", "East Asia", "(Asia Pacific) East Asia", "Asia Pacific", "22.267", "114.188",
       "southeastasia"},
      {"japaneast", "Japan East", "(Asia Pacific) Japan East", "Asia Pacific", "35.68", "139.77",
       "japanwest"},
      {"koreacentral", "Korea Central", "(Asia Pacific) Korea Central", "Asia Pacific", "37.5665",
       "126.978", "koreasouth"},
      {"canadacentral", "Canada Central", "(Canada) Canada Central", "Canada", "43.653", "-79.383",
       "canadaeast"},
      {"francecentral", "France Central", "(Europe) France Central", "Europe", "46.3772", "2.373",
       "francesouth"},
      {"germanywestcentral", "Germany West Central", "(Europe) Germany West Central", "Europe",
       "50.110924", "8.682127", "germanynorth"},
      {"norwayeast", "Norway East", "(Europe) Norway East", "Europe", "59.913868", "10.752245",
       "norwaywest"},
      {"switzerlandnorth", "Switzerland North", "(Europe) Switzerland North", "Europe", "47.451542",
       "8.564572", "switzerlandwest"},
      {"uaenorth", "UAE North", "(Middle East) UAE North", "Middle East", "25.266666", "55.316666",
       "uaecentral"},
      {"brazilsouth", "Brazil South", "(South America) Brazil South", "South America", "-23.55",
       "-46.633", "southcentralus"},
      {"northcentralus", "North Central US", "(US) North Central US", "US", "41.8819", "-87.6278",
       "southcentralus"},
      {"westus", "West US", "(US) West US", "US", "37.783", "-122.417", "eastus"},
      {"westcentralus", "West Central US", "(US) West Central US", "US", "40.89", "-110.234",
       "westus2"},
      {"australiasoutheast", "Australia Southeast", "(Asia Pacific) Australia Southeast",
       "Asia Pacific", "-37.8136", "144.9631", "australiaeast"},
      {"japanwest", "Japan West", "(Asia Pacific) Japan West", "Asia Pacific", "34.6939",
       "135.5022", "japaneast"},
      {"koreasouth", "Korea South", "(Asia Pacific) Korea South", "Asia Pacific", "35.1796",
       "129.0756", "koreacentral"},
      {"southindia", "South India", "(Asia Pacific) South India", "Asia Pacific", "12.9822",
       "80.1636", "centralindia"},
      {"canadaeast", "Canada East", "(Canada) Canada East", "Canada", "46.817", "-71.217",
       "canadacentral"},
      {"ukwest", "UK West", "(Europe) UK West", "Europe", "53.427", "-3.084", "uksouth"},
  };
  return kLocations;
}

namespace {
std::string Squash(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}
}  // namespace

const Location* FindLocation(std::string_view name) {
  std::string want = Squash(name);
  for (const auto& l : Locations()) {
    if (l.name == want) return &l;
  }
  return nullptr;
}

std::string LocationNames() {
  std::string out;
  for (const auto& l : Locations()) {
    if (!out.empty()) out += ",";
    out += l.name;
  }
  return out;
}

}  // namespace byok::arm
