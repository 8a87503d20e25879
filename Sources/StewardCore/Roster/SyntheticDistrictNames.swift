import Foundation

/// A name as written in the roster, and the plain lower-case ASCII form that logins and email
/// addresses are made of (`José` → `jose`, `O'Brien` → `obrien`, `De la Cruz` → `delacruz`).
struct SyntheticName: Sendable {
    let text: [UInt8]
    let login: [UInt8]

    init(_ text: String) {
        self.text = Array(text.utf8)
        let plain = text.decomposedStringWithCanonicalMapping.unicodeScalars.filter { $0.isASCII && $0.properties.isAlphabetic }
        login = Array(String(String.UnicodeScalarView(plain)).lowercased().utf8)
    }
}

/// The names the synthetic district draws from: a few hundred given and family names from the
/// many origins of a large American district, some with accents, apostrophes, hyphens and spaces,
/// so that every importer meets them in test data before it meets them in a real roster.
enum SyntheticNames {
    static let female = names("""
        Olivia Emma Charlotte Amelia Sophia Mia Isabella Ava Evelyn Harper Luna Camila Sofía Valentina \
        Ximena Guadalupe Mariana Daniela Lucía Gabriela Fernanda Renata Paola Alejandra Yesenia Marisol \
        Luz Rosa Carmen Josefina Aaliyah Imani Nia Jada Kiara Zuri Amara Ayana Destiny Jasmine Tiana \
        Aisha Fatima Mariam Layla Noor Zainab Yasmin Amira Leila Hana Mei Yuna Sakura Aiko Ji-woo \
        Seo-yeon Min-ji Xinyi Mei-Ling Linh Mai Thảo Anh Priya Ananya Aditi Diya Kavya Saanvi Ishita \
        Meera Chloé Zoë Renée Élise Maëlle Ingrid Astrid Freya Siobhan Niamh Aoife Maya Grace Hannah \
        Abigail Emily Elizabeth Madison Scarlett Victoria Natalie Leah Nora Hazel Aurora Savannah \
        Brooklyn Claire Stella Naomi Ruth Esther Miriam Talia Leilani Malia Winona Aiyana Tala Nizhoni \
        Olga Katarzyna Zofia Anastasia Daria Irina Oksana Ngozi Chiamaka Adaeze Abena Wanjiru Makena \
        Hiwot Selam Fiona Margaret Julia Anna Alice Ella Lily Ellie Penelope Riya Nadia Sana
        """)

    static let male = names("""
        Liam Noah Oliver James Elijah William Henry Lucas Benjamin Theodore Mateo Santiago Sebastián \
        Diego Alejandro Javier José Luis Carlos Miguel Juan Jesús Ángel Emiliano Joaquín Andrés \
        Rafael Gabriel Thiago João DeShawn Jamal Malik Darius Tyrone Marcus Terrence Jalen Kwame Kofi \
        Chinedu Emeka Oluwaseun Tunde Tesfaye Dawit Mohammed Ahmed Omar Yusuf Ali Hassan Ibrahim \
        Karim Tariq Hiroshi Haruto Kenji Ren Min-jun Ji-ho Seo-jun Wei Jun Hao Zhiwei Minh Bảo Huy \
        Quang Arjun Rohan Vikram Aarav Vihaan Ishaan Rahul Sanjay Dmitri Ivan Mikhail Pavel Tomasz \
        Piotr Lukas Matthias Sven Lars Björn Finn Declan Cian Seamus Rhys Ethan Mason Logan Jackson \
        Aiden Caleb Isaac Nathan Samuel David Daniel Michael Joseph Anthony Christopher Joshua Andrew \
        Ryan Tyler Brandon Kai Koa Keoni Makoa Takoda Ahanu François André Jacob Owen Wyatt Julian \
        Levi Isaiah Ezra Adrian Hugo Felix Leon Omari Xavier Zaid Hamza Bilal Farid
        """)

    static let neutral = names("""
        Alex Jordan Taylor Riley Casey Morgan Quinn Rowan Sage Skyler Emerson Jamie Parker Reese \
        Dakota Kalani Avery Charlie Finley River Ari Noa Remy
        """)

    static let family = names("""
        Smith Johnson Williams Brown Jones García Miller Davis Rodríguez Martínez Hernández López \
        González Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Pérez Thompson White Harris \
        Sánchez Clark Ramírez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyễn Hill \
        Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gómez Phillips \
        Evans Turner Díaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers \
        Gutiérrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson \
        Watson Brooks Chávez Wood James Bennett Gray Mendoza Ruiz Hughes Price Álvarez Castillo \
        Sanders Patel Myers Long Ross Foster Jiménez Powell Jenkins Perry Russell Sullivan Bell \
        Coleman Butler Henderson Barnes Fisher Vásquez Simmons Romero Patterson Alexander Hamilton \
        Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina \
        Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernández McDonald Woods Washington \
        Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzmán Burns Crawford Olson Simpson Porter \
        Hunter Gordon Méndez Silva Shaw Snyder Mason Dixon Muñoz Hunt Hicks Holmes Palmer Wagner Black \
        Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson \
        Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Spencer Hawkins Arnold Pierce \
        Vázquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson \
        Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Peña \
        Richards Contreras Willis Carpenter Lawrence Sandoval Wang Li Zhang Liu Huang Wu Zhou Xu Lin \
        Park Choi Jung Kang Cho Yoon Tanaka Suzuki Takahashi Watanabe Yamamoto Nakamura Sato Pham Le \
        Vu Dang Bui Do Hoang Singh Kumar Shah Sharma Gupta Reddy Rao Iyer Das Khan Ahmed Hussein \
        Haddad Khalil Nasser Mansour Abdi Mohamud Okafor Adeyemi Okonkwo Mensah Owusu Kamau Otieno \
        Bekele Haile Kowalski Nowak Wiśniewski Kovács Novák Petrov Popescu Müller Schneider Fischer \
        Weber Becker Rossi Russo Ferrari Esposito Bianchi O'Brien O'Connor McCarthy Gallagher Byrne \
        Nielsen Larsen Johansson Lindqvist Begay Yazzie Tsosie Benally Kealoha Kahale Akana Mahoe \
        Tuilagi Fifita Bautista Villanueva Aquino Navarro Aguirre Cabrera Espinoza Fuentes Ibarra \
        Rojas Valenzuela Zamora Cervantes García-López Dela_Cruz De_la_Cruz St._John Van_der_Berg \
        Ben-David Al-Sayed
        """)

    /// Namesakes and places for school names.
    static let schoolNamesakes = [
        "Abraham Lincoln", "George Washington Carver", "Thomas Jefferson", "César Chávez", "Martin Luther King Jr.",
        "Rosa Parks", "Harriet Tubman", "Frederick Douglass", "Sojourner Truth", "Maya Angelou", "Sally Ride",
        "Amelia Earhart", "Thurgood Marshall", "Dolores Huerta", "Sequoyah", "Helen Keller", "Jackie Robinson",
        "Roberto Clemente", "Ellen Ochoa", "Mae Jemison", "Katherine Johnson", "Grace Hopper", "John Muir",
        "Rachel Carson", "Langston Hughes", "Clara Barton", "Susan B. Anthony", "Eleanor Roosevelt",
        "Duke Kahanamoku", "Fred Korematsu", "Patsy Mink", "Daniel Inouye", "Sonia Sotomayor", "Walt Whitman",
        "Mark Twain", "Benjamin Franklin", "Wilma Rudolph", "Jim Thorpe", "Chien-Shiung Wu", "Ruby Bridges",
    ]
    static let placeWords = [
        "Oak", "Cedar", "Maple", "Willow", "Pine", "Aspen", "Birch", "Sycamore", "Magnolia", "Juniper",
        "Sierra", "Canyon", "Mesa", "Lakeside", "River", "Harbor", "Meadow", "Sunset", "Highland", "Prairie",
        "Eagle", "Falcon", "Bear", "Fox", "Quail", "Heron", "Golden", "Silver", "Crystal", "Redwood",
    ]
    static let placeEndings = [
        "Grove", "Ridge", "Valley", "Park", "Hills", "Creek", "View", "Heights", "Springs", "Crossing",
        "Glen", "Point", "Trail", "Vista", "Hollow",
    ]

    /// The `index`th school name stem of a level: namesakes first, then places, then numbered.
    static func schoolStem(_ index: Int) -> String {
        if index < schoolNamesakes.count { return schoolNamesakes[index] }
        let place = index - schoolNamesakes.count
        let combinations = placeWords.count * placeEndings.count
        let stem = placeWords[place % placeWords.count] + " " + placeEndings[(place / placeWords.count) % placeEndings.count]
        return place < combinations ? stem : "\(stem) \(place / combinations + 1)"
    }

    /// Birthplaces: country code, state (for the United States) and city.
    static let birthplacesUS: [(state: String, city: String)] = [
        ("CA", "Los Angeles"), ("CA", "San Diego"), ("CA", "San José"), ("CA", "Fresno"), ("CA", "Sacramento"),
        ("CA", "Oakland"), ("CA", "Riverside"), ("CA", "Bakersfield"), ("CA", "Stockton"), ("CA", "Santa Ana"),
        ("TX", "Houston"), ("TX", "San Antonio"), ("AZ", "Phoenix"), ("NV", "Las Vegas"), ("OR", "Portland"),
        ("WA", "Seattle"), ("NY", "New York"), ("IL", "Chicago"), ("FL", "Miami"), ("HI", "Honolulu"),
        ("NM", "Albuquerque"), ("GA", "Atlanta"), ("MN", "Minneapolis"), ("CO", "Denver"),
    ]
    static let birthplacesAbroad: [(country: String, city: String)] = [
        ("MX", "Guadalajara"), ("MX", "Ciudad de México"), ("MX", "Puebla"), ("GT", "Quetzaltenango"),
        ("SV", "San Salvador"), ("HN", "Tegucigalpa"), ("VN", "Hồ Chí Minh"), ("PH", "Quezon City"),
        ("CN", "Guangzhou"), ("KR", "Seoul"), ("IN", "Hyderabad"), ("AF", "Kabul"), ("UA", "Kyiv"),
        ("SO", "Mogadishu"), ("ET", "Addis Ababa"), ("NG", "Lagos"), ("SY", "Aleppo"), ("HT", "Port-au-Prince"),
    ]
    static let areaCodes = [209, 213, 310, 323, 408, 415, 510, 559, 619, 626, 661, 707, 714, 805, 818, 909, 916, 951]

    /// Splits a list on spaces; `_` stands for a space inside a name.
    private static func names(_ list: String) -> [SyntheticName] {
        list.split(separator: " ").map { SyntheticName($0.replacingOccurrences(of: "_", with: " ")) }
    }
}
