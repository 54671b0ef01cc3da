"""The hand-written part of the catalog: the demo library's films (and the few their collections and
title searches need), with real titles, years, IMDb ids and top credits.

Only the facts a reader would check are real: titles, original titles and languages, release dates,
runtimes, genres, IMDb ids, directors, writers and top-billed cast. Overviews are our own one-line
summaries, person ids are invented (500001+, clear of the generated ranges), and everything else
(images, extra cast, keywords, companies) is generated like any other entry. ``traits`` plant the
variety the demo should exercise: Pulp Fiction carries a large, hostile cast; Heat (1986) has no
fanart.tv entry; Schindler's List's best poster declares 2000×3000 but is 1000×1500 (``misdeclared_size``);
Se7en's best poster is a PNG named ``.jpg`` (``misnamed_png``): see ``artwork.plant_quirks``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KnownMovie:
    id: int
    imdb_id: str
    title: str  # English title
    original_title: str
    original_language: str
    release_date: str
    runtime: int
    genres: tuple[str, ...]  # names from catalog GENRES
    overview: str
    tagline: str
    certification: str  # US
    directors: tuple[str, ...]
    writers: tuple[tuple[str, str], ...]  # (name, job)
    cast: tuple[tuple[str, str], ...]  # (name, character), billing order
    countries: tuple[str, ...] = ("US",)
    collection: int | None = None
    translations: tuple[tuple[str, str, str], ...] = ()  # (language, title, overview)
    alternative_titles: tuple[tuple[str, str], ...] = ()  # (country, title): romanised, festival, local titles
    popularity: float = 40.0
    vote_average: float = 7.8
    vote_count: int = 20000
    wikidata_id: str | None = None
    traits: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnownCollection:
    id: int
    name: str
    overview: str
    parts: tuple[int, ...]
    translations: tuple[tuple[str, str, str], ...] = ()  # (language, name, overview)


# name → (invented person id, TMDB gender: 1 female, 2 male, 3 non-binary)
KNOWN_PEOPLE: dict[str, tuple[int, int]] = {
    "Lana Wachowski": (500001, 1), "Lilly Wachowski": (500002, 1), "Keanu Reeves": (500003, 2),
    "Laurence Fishburne": (500004, 2), "Carrie-Anne Moss": (500005, 1), "Hugo Weaving": (500006, 2),
    "Jean-Pierre Jeunet": (500007, 2), "Guillaume Laurant": (500008, 2), "Audrey Tautou": (500009, 1),
    "Mathieu Kassovitz": (500010, 2), "Rufus": (500011, 2), "Yolande Moreau": (500012, 1),
    "Luc Besson": (500013, 2), "Jean Reno": (500014, 2), "Gary Oldman": (500015, 2),
    "Natalie Portman": (500016, 1), "Denis Villeneuve": (500017, 2), "Hampton Fancher": (500018, 2),
    "Michael Green": (500019, 2), "Ryan Gosling": (500020, 2), "Harrison Ford": (500021, 2),
    "Ana de Armas": (500022, 1), "Sylvia Hoeks": (500023, 1), "Michael Mann": (500024, 2),
    "Al Pacino": (500025, 2), "Robert De Niro": (500026, 2), "Val Kilmer": (500027, 2),
    "Christopher Nolan": (500028, 2), "Leonardo DiCaprio": (500029, 2), "Joseph Gordon-Levitt": (500030, 2),
    "Elliot Page": (500031, 2), "Tom Hardy": (500032, 2), "Ang Lee": (500033, 2),
    "Chow Yun-fat": (500034, 2), "Michelle Yeoh": (500035, 1), "Zhang Ziyi": (500036, 1),
    "Steven Spielberg": (500037, 2), "Steven Zaillian": (500038, 2), "Thomas Keneally": (500039, 2),
    "Liam Neeson": (500040, 2), "Ben Kingsley": (500041, 2), "Ralph Fiennes": (500042, 2),
    "David Fincher": (500043, 2), "Andrew Kevin Walker": (500044, 2), "Brad Pitt": (500045, 2),
    "Morgan Freeman": (500046, 2), "Gwyneth Paltrow": (500047, 1), "Kevin Spacey": (500048, 2),
    "Quentin Tarantino": (500049, 2), "John Travolta": (500050, 2), "Samuel L. Jackson": (500051, 2),
    "Uma Thurman": (500052, 1), "Bruce Willis": (500053, 2), "Hayao Miyazaki": (500054, 2),
    "Rumi Hiiragi": (500055, 1), "Miyu Irino": (500056, 2), "Mari Natsuki": (500057, 1),
    "Dick Richards": (500058, 2), "Burt Reynolds": (500059, 2), "Ridley Scott": (500060, 2),
    "Rutger Hauer": (500061, 2), "Sean Young": (500062, 1), "David Peoples": (500063, 2),
    "Philip K. Dick": (500064, 2), "Jada Pinkett Smith": (500065, 1), "Yahya Abdul-Mateen II": (500066, 2),
    "Wang Hui-ling": (500067, 1), "William Goldman": (500068, 2), "Karen Young": (500069, 1),
    "Makoto Shinkai": (500070, 2), "Ryunosuke Kamiki": (500071, 2), "Mone Kamishiraishi": (500072, 1),
}

_WACHOWSKIS = (("Lana Wachowski", "Writer"), ("Lilly Wachowski", "Writer"))

KNOWN_MOVIES: tuple[KnownMovie, ...] = (
    KnownMovie(
        603, "tt0133093", "The Matrix", "The Matrix", "en", "1999-03-30", 136, ("Action", "Science Fiction"),
        "A hacker learns that the world he lives in is a simulation and joins the rebels who fight its makers.",
        "Welcome to the Real World.", "R", ("Lana Wachowski", "Lilly Wachowski"), _WACHOWSKIS,
        (("Keanu Reeves", "Thomas A. Anderson / Neo"), ("Laurence Fishburne", "Morpheus"),
         ("Carrie-Anne Moss", "Trinity"), ("Hugo Weaving", "Agent Smith")),
        collection=2344, popularity=92.5, vote_average=8.2, vote_count=26000, wikidata_id="Q83495",
        translations=(("fr", "Matrix", "Un pirate informatique découvre que son monde est une simulation et "
                                        "rejoint les rebelles qui combattent ses créateurs."),),
    ),
    KnownMovie(
        194, "tt0211915", "Amélie", "Le Fabuleux Destin d'Amélie Poulain", "fr", "2001-04-25", 122,
        ("Comedy", "Romance"),
        "A shy Paris waitress decides to quietly change the lives of the people around her, and then her own.",
        "One person can change your life forever.", "R", ("Jean-Pierre Jeunet",),
        (("Guillaume Laurant", "Screenplay"), ("Jean-Pierre Jeunet", "Screenplay")),
        (("Audrey Tautou", "Amélie Poulain"), ("Mathieu Kassovitz", "Nino Quincampoix"),
         ("Rufus", "Raphaël Poulain"), ("Yolande Moreau", "Madeleine Wallace")),
        countries=("FR", "DE"), popularity=35.1, vote_average=7.9, vote_count=11000, wikidata_id="Q484048",
        translations=(("fr", "Le Fabuleux Destin d'Amélie Poulain",
                       "Une serveuse timide de Montmartre décide de changer en secret la vie de ceux qui "
                       "l'entourent, puis la sienne."),),
    ),
    KnownMovie(
        101, "tt0110413", "Léon: The Professional", "Léon", "en", "1994-09-14", 111, ("Crime", "Drama", "Action"),
        "A solitary hitman in New York takes in the twelve-year-old girl next door after her family is killed.",
        "If you want a job done well, hire a professional.", "R", ("Luc Besson",), (("Luc Besson", "Writer"),),
        (("Jean Reno", "Léon"), ("Gary Oldman", "Norman Stansfield"), ("Natalie Portman", "Mathilda")),
        countries=("FR", "US"), popularity=41.7, vote_average=8.3, vote_count=14500, wikidata_id="Q484056",
        translations=(("fr", "Léon", "Un tueur à gages solitaire recueille la fillette de ses voisins après le "
                                     "meurtre de sa famille."),),
    ),
    KnownMovie(
        335984, "tt1856101", "Blade Runner 2049", "Blade Runner 2049", "en", "2017-10-04", 163,
        ("Science Fiction", "Drama"),
        "A new blade runner unearths a secret that could plunge what is left of society into chaos.",
        "The key to the future is finally unearthed.", "R", ("Denis Villeneuve",),
        (("Hampton Fancher", "Screenplay"), ("Michael Green", "Screenplay"), ("Philip K. Dick", "Characters")),
        (("Ryan Gosling", "K"), ("Harrison Ford", "Rick Deckard"), ("Ana de Armas", "Joi"),
         ("Sylvia Hoeks", "Luv")),
        countries=("US", "CA"), collection=422837, popularity=55.0, vote_average=7.6, vote_count=13900,
        wikidata_id="Q21500755",
        translations=(("fr", "Blade Runner 2049", "Un nouveau blade runner découvre un secret capable de "
                                                  "plonger ce qui reste de la société dans le chaos."),),
    ),
    KnownMovie(
        949, "tt0113277", "Heat", "Heat", "en", "1995-12-15", 170, ("Crime", "Drama", "Action", "Thriller"),
        "A meticulous crew of thieves and the obsessive detective hunting them circle each other across LA.",
        "A Los Angeles crime saga.", "R", ("Michael Mann",), (("Michael Mann", "Writer"),),
        (("Al Pacino", "Lt. Vincent Hanna"), ("Robert De Niro", "Neil McCauley"), ("Val Kilmer", "Chris Shiherlis")),
        popularity=48.3, vote_average=7.9, vote_count=7400, wikidata_id="Q208108",
        translations=(("fr", "Heat", "Une équipe de braqueurs méticuleux et le policier obsédé qui la traque "
                                     "s'affrontent dans Los Angeles."),),
    ),
    KnownMovie(
        27205, "tt1375666", "Inception", "Inception", "en", "2010-07-15", 148,
        ("Action", "Science Fiction", "Adventure"),
        "A thief who steals secrets from dreams is offered one last job: planting an idea instead.",
        "Your mind is the scene of the crime.", "PG-13", ("Christopher Nolan",), (("Christopher Nolan", "Writer"),),
        (("Leonardo DiCaprio", "Dom Cobb"), ("Joseph Gordon-Levitt", "Arthur"), ("Elliot Page", "Ariadne"),
         ("Tom Hardy", "Eames")),
        countries=("US", "GB"), popularity=98.0, vote_average=8.4, vote_count=37000, wikidata_id="Q25188",
        translations=(("fr", "Inception", "Un voleur qui dérobe des secrets dans les rêves se voit proposer une "
                                          "dernière mission : implanter une idée."),),
    ),
    KnownMovie(
        146, "tt0190332", "Crouching Tiger, Hidden Dragon", "臥虎藏龍", "zh", "2000-07-06", 120,
        ("Adventure", "Drama", "Action", "Romance"),
        "Two warriors search for a stolen legendary sword and the young noblewoman who may have taken it.",
        "A timeless story of strength, secrets and two warriors who would never surrender.", "PG-13",
        ("Ang Lee",), (("Wang Hui-ling", "Screenplay"),),
        (("Chow Yun-fat", "Li Mu Bai"), ("Michelle Yeoh", "Yu Shu Lien"), ("Zhang Ziyi", "Jen Yu")),
        countries=("TW", "CN", "US"), popularity=25.4, vote_average=7.4, vote_count=4200, wikidata_id="Q192724",
        translations=(("fr", "Tigre et Dragon", "Deux guerriers recherchent une épée légendaire volée et la jeune "
                                                "aristocrate qui l'a peut-être prise."),
                      ("zh", "臥虎藏龍", "")),
    ),
    KnownMovie(
        424, "tt0108052", "Schindler's List", "Schindler's List", "en", "1993-12-15", 195,
        ("Drama", "History", "War"),
        "A German industrialist saves more than a thousand Jewish workers from the Holocaust.",
        "Whoever saves one life, saves the world entire.", "R", ("Steven Spielberg",),
        (("Steven Zaillian", "Screenplay"), ("Thomas Keneally", "Novel")),
        (("Liam Neeson", "Oskar Schindler"), ("Ben Kingsley", "Itzhak Stern"), ("Ralph Fiennes", "Amon Goeth")),
        popularity=44.2, vote_average=8.6, vote_count=15500, wikidata_id="Q483941", traits=("misdeclared_size",),
        translations=(("fr", "La Liste de Schindler", "Un industriel allemand sauve plus d'un millier de "
                                                      "travailleurs juifs de la Shoah."),),
    ),
    KnownMovie(
        807, "tt0114369", "Se7en", "Se7en", "en", "1995-09-22", 127, ("Crime", "Mystery", "Thriller"),
        "Two detectives hunt a killer who stages each murder after one of the seven deadly sins.",
        "Seven deadly sins. Seven ways to die.", "R", ("David Fincher",), (("Andrew Kevin Walker", "Writer"),),
        (("Brad Pitt", "Detective David Mills"), ("Morgan Freeman", "Detective William Somerset"),
         ("Gwyneth Paltrow", "Tracy Mills"), ("Kevin Spacey", "John Doe")),
        popularity=51.9, vote_average=8.4, vote_count=21000, wikidata_id="Q190908", traits=("misnamed_png",),
        translations=(("fr", "Seven", "Deux inspecteurs traquent un tueur qui met en scène chaque meurtre "
                                      "d'après l'un des sept péchés capitaux."),),
    ),
    KnownMovie(
        680, "tt0110912", "Pulp Fiction", "Pulp Fiction", "en", "1994-09-10", 154, ("Thriller", "Crime"),
        "Hitmen, a boxer, a gangster's wife and two diner robbers cross paths over one long Los Angeles day.",
        "Just because you are a character doesn't mean you have character.", "R", ("Quentin Tarantino",),
        (("Quentin Tarantino", "Writer"),),
        (("John Travolta", "Vincent Vega"), ("Samuel L. Jackson", "Jules Winnfield"), ("Uma Thurman", "Mia Wallace"),
         ("Bruce Willis", "Butch Coolidge")),
        popularity=70.4, vote_average=8.5, vote_count=27000, wikidata_id="Q104123", traits=("large_cast",),
        translations=(("fr", "Pulp Fiction", "Des tueurs, un boxeur, la femme d'un caïd et deux braqueurs de "
                                             "restaurant se croisent le temps d'une journée à Los Angeles."),),
    ),
    KnownMovie(
        129, "tt0245429", "Spirited Away", "千と千尋の神隠し", "ja", "2001-07-20", 125,
        ("Animation", "Family", "Fantasy"),
        "A ten-year-old girl must work in a bathhouse for spirits to free her parents, who were turned into pigs.",
        "", "PG", ("Hayao Miyazaki",), (("Hayao Miyazaki", "Writer"),),
        (("Rumi Hiiragi", "Chihiro Ogino (voice)"), ("Miyu Irino", "Haku (voice)"),
         ("Mari Natsuki", "Yubaba / Zeniba (voice)")),
        countries=("JP",), popularity=80.3, vote_average=8.5, vote_count=16500, wikidata_id="Q155653",
        translations=(("fr", "Le Voyage de Chihiro", "Une fillette de dix ans doit travailler dans des bains "
                                                     "pour esprits afin de libérer ses parents changés en porcs."),
                      ("ja", "千と千尋の神隠し", "10歳の少女千尋は、豚に変えられた両親を救うため、神々の湯屋で働く。")),
        alternative_titles=(("JP", "Sen to Chihiro no Kamikakushi"), ("US", "Spirited Away (Disney)")),
    ),
    KnownMovie(
        # Found only through its alternative titles: a folder named with the romanised title ("Kimi no Na wa
        # (2016)", the way anime collections are named) matches neither ``title`` nor ``original_title``.
        372058, "tt5311514", "Your Name.", "君の名は。", "ja", "2016-08-26", 106,
        ("Animation", "Romance", "Drama"),
        "Two teenagers who have never met find themselves waking up in each other's bodies.",
        "", "PG", ("Makoto Shinkai",), (("Makoto Shinkai", "Screenplay"),),
        (("Ryunosuke Kamiki", "Taki Tachibana (voice)"), ("Mone Kamishiraishi", "Mitsuha Miyamizu (voice)")),
        countries=("JP",), popularity=60.4, vote_average=8.5, vote_count=11000,
        translations=(("fr", "Your Name.", "Deux adolescents qui ne se connaissent pas échangent leurs corps."),),
        alternative_titles=(("JP", "Kimi no Na wa."), ("US", "Your Name")),
    ),
    KnownMovie(
        11379, "tt0091183", "Heat", "Heat", "en", "1986-03-14", 101, ("Action", "Crime", "Thriller"),
        "A Las Vegas bodyguard with a gambling habit takes on the mob to avenge a friend.",
        "", "R", ("Dick Richards",), (("William Goldman", "Screenplay"),),
        (("Burt Reynolds", "Nick 'Mex' Escalante"), ("Karen Young", "Holly")),
        popularity=6.1, vote_average=5.4, vote_count=160, traits=("no_fanart",),
    ),
    KnownMovie(
        604, "tt0234215", "The Matrix Reloaded", "The Matrix Reloaded", "en", "2003-05-15", 138,
        ("Action", "Science Fiction"),
        "Neo and the rebels race to defend Zion as the machines close in.", "Free your mind.", "R",
        ("Lana Wachowski", "Lilly Wachowski"), _WACHOWSKIS,
        (("Keanu Reeves", "Neo"), ("Laurence Fishburne", "Morpheus"), ("Carrie-Anne Moss", "Trinity")),
        collection=2344, popularity=40.2, vote_average=7.0, vote_count=10500,
        translations=(("fr", "Matrix Reloaded", "Neo et les rebelles se hâtent de défendre Zion."),),
    ),
    KnownMovie(
        605, "tt0242653", "The Matrix Revolutions", "The Matrix Revolutions", "en", "2003-11-05", 129,
        ("Action", "Science Fiction"),
        "The war between humans and machines reaches its end.", "Everything that has a beginning has an end.", "R",
        ("Lana Wachowski", "Lilly Wachowski"), _WACHOWSKIS,
        (("Keanu Reeves", "Neo"), ("Laurence Fishburne", "Morpheus"), ("Carrie-Anne Moss", "Trinity")),
        collection=2344, popularity=35.6, vote_average=6.7, vote_count=9300,
        translations=(("fr", "Matrix Revolutions", "La guerre entre les hommes et les machines touche à sa fin."),),
    ),
    KnownMovie(
        624860, "tt10838180", "The Matrix Resurrections", "The Matrix Resurrections", "en", "2021-12-16", 148,
        ("Science Fiction", "Action", "Adventure"),
        "Thomas Anderson returns to the Matrix, which seems to have rebuilt itself around him.",
        "Return to the source.", "R", ("Lana Wachowski",), (("Lana Wachowski", "Screenplay"),),
        (("Keanu Reeves", "Thomas Anderson / Neo"), ("Carrie-Anne Moss", "Tiffany / Trinity"),
         ("Yahya Abdul-Mateen II", "Morpheus"), ("Jada Pinkett Smith", "Niobe")),
        collection=2344, popularity=30.9, vote_average=6.4, vote_count=5900,
    ),
    KnownMovie(
        78, "tt0083658", "Blade Runner", "Blade Runner", "en", "1982-06-25", 117, ("Science Fiction", "Drama"),
        "A blade runner must pursue and retire four replicants who have come back to Earth.",
        "Man has made his match... now it's his problem.", "R", ("Ridley Scott",),
        (("Hampton Fancher", "Screenplay"), ("David Peoples", "Screenplay"), ("Philip K. Dick", "Novel")),
        (("Harrison Ford", "Rick Deckard"), ("Rutger Hauer", "Roy Batty"), ("Sean Young", "Rachael")),
        collection=422837, popularity=45.8, vote_average=7.9, vote_count=13800,
    ),
)

KNOWN_COLLECTIONS: tuple[KnownCollection, ...] = (
    KnownCollection(2344, "The Matrix Collection",
                    "The story of Neo and the rebels who fight the machines that keep humanity in a simulation.",
                    (603, 604, 605, 624860),
                    (("fr", "Matrix - Saga", "L'histoire de Neo et des rebelles qui combattent les machines."),)),
    KnownCollection(422837, "Blade Runner Collection",
                    "Replicants and the blade runners who hunt them in a rain-soaked future Los Angeles.",
                    (78, 335984),
                    (("fr", "Blade Runner - Saga", "Des réplicants et les blade runners qui les traquent."),)),
)
