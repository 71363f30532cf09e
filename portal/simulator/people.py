"""The simulator's fake customers: names in English and Arabic, Gulf mobile numbers, addresses, notes."""
from dataclasses import dataclass

ITEM_NOTES = ["No pickles", "Well done", "Sauce on the side", "Extra napkins", "Cut in half", "Less salt"]
ORDER_NOTES = ["Please ring the bell", "Call on arrival", "Leave at the door", "No cutlery, please",
               "The building has a blue gate", "من فضلك اتصل عند الوصول", "لا تطرق الباب، الطفل نائم"]

FIRST_NAMES_EN = ["Mohammed", "Ahmed", "Abdullah", "Khalid", "Faisal", "Sultan", "Fahad", "Saud", "Omar",
                  "Yousef", "Turki", "Nasser", "Fatimah", "Noura", "Sara", "Reem", "Maha", "Hessa", "Aisha",
                  "Latifa", "Mariam", "Dana", "Lulwa", "Shaikha"]
LAST_NAMES_EN = ["Al-Harbi", "Al-Qahtani", "Al-Otaibi", "Al-Ghamdi", "Al-Zahrani", "Al-Dosari", "Al-Shehri",
                 "Al-Mutairi", "Al-Subaie", "Al-Shammari", "Al-Kuwari", "Al-Mansoori", "Al-Nuaimi", "Al-Sabah"]
FIRST_NAMES_AR = ["محمد", "أحمد", "عبدالله", "خالد", "فيصل", "سلطان", "فهد", "نورة", "سارة", "ريم", "مها",
                  "لطيفة", "مريم", "دانة"]
LAST_NAMES_AR = ["الحربي", "القحطاني", "العتيبي", "الغامدي", "الزهراني", "الدوسري", "الشمري", "المطيري",
                 "السبيعي", "الكواري", "المنصوري"]
EXPAT_NAMES = [("Rahul", "Menon"), ("Maria", "Santos"), ("Ali", "Khan"), ("John", "Mathew"),
               ("Ayesha", "Siddiqui"), ("Mark", "Wilson")]

# Country → (calling code, national mobile number patterns: prefix + random digits to fill the length)
MOBILE = {
    "SA": ("966", [("5", 8)]),
    "AE": ("971", [("50", 7), ("52", 7), ("55", 7), ("56", 7)]),
    "KW": ("965", [("5", 7), ("9", 7), ("66", 6), ("99", 6)]),
    "QA": ("974", [("3", 7), ("5", 7), ("66", 6), ("77", 6)]),
    "BH": ("973", [("33", 6), ("36", 6), ("39", 6)]),
    "OM": ("968", [("9", 7), ("7", 7)]),
}
# Country → (city, districts, streets, (lat, lng) centre)
PLACES = {
    "SA": ("Riyadh", ["Al Olaya", "Al Malqa", "Hittin", "Al Nakheel", "Al Yasmin", "Al Sahafa", "Al Muruj"],
           ["King Fahd Road", "Olaya Street", "Prince Turki Street", "Anas Ibn Malik Road", "Takhassusi Street"],
           (24.7136, 46.6753)),
    "AE": ("Dubai", ["Dubai Marina", "JLT", "Al Barsha", "Business Bay", "Jumeirah", "Deira"],
           ["Sheikh Zayed Road", "Al Wasl Road", "Al Khail Road", "Marina Walk"], (25.2048, 55.2708)),
    "KW": ("Kuwait City", ["Salmiya", "Hawalli", "Jabriya", "Mishref", "Sharq", "Fintas"],
           ["Gulf Road", "Salem Al Mubarak Street", "Tunis Street", "Beirut Street"], (29.3759, 47.9774)),
    "QA": ("Doha", ["West Bay", "Al Sadd", "The Pearl", "Al Waab", "Lusail"],
           ["Al Corniche Street", "Salwa Road", "C Ring Road", "Al Waab Street"], (25.2854, 51.5310)),
    "BH": ("Manama", ["Seef", "Juffair", "Adliya", "Riffa", "Muharraq"],
           ["Road 2832", "Road 4609", "Exhibition Avenue", "Osama Bin Zaid Avenue"], (26.2285, 50.5860)),
    "OM": ("Muscat", ["Al Khuwair", "Qurum", "Al Mouj", "Ruwi", "Madinat Sultan Qaboos"],
           ["Sultan Qaboos Street", "18th November Street", "Al Kharjiyah Street"], (23.5880, 58.3829)),
}


@dataclass
class Customer:
    first_name: str
    last_name: str
    phone: str
    email: str
    city: str
    district: str
    street: str
    building: str
    flat: str
    lat: float
    lng: float

    @property
    def name(self):
        return f"{self.first_name} {self.last_name}"
